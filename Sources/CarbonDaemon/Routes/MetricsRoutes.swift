import CarbonStore
import Hummingbird

/// `GET /metrics` in the Prometheus text format.
struct MetricsRoutes {
    let store: CarbonStore

    func register(on router: Router<DaemonContext>) {
        router.get("/metrics") { _, context in
            try context.require(.metrics, .admin)
            let checkpoint = try await store.reader.latestCheckpoint()
            let text = """
                # HELP carbonledger_ledger_entries Entries in the ledger's latest checkpoint.
                # TYPE carbonledger_ledger_entries gauge
                carbonledger_ledger_entries \(checkpoint?.size ?? 0)
                # HELP carbonledger_wal_bytes_written_total Bytes the ledger writer appended to the SQLite WAL.
                # TYPE carbonledger_wal_bytes_written_total counter
                carbonledger_wal_bytes_written_total \(store.walMonitor.bytesWritten())
                # HELP carbonledger_open_connections Connections open on the socket.
                # TYPE carbonledger_open_connections gauge
                carbonledger_open_connections \(Connections.shared.count)

                """
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
