import CarbonClient
import CarbonLedger
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The key and the database on disk and in memory: private files whatever the umask,
/// no stale backup copy, and no copy of the key file's text left in the daemon.
@Suite struct KeyCustodyTests {
    @Test func theDatabaseAndItsWALAreOwnerOnlyWhateverTheUmask() throws {
        // The test runner's umask (022 here) would give SQLite's files 0644.
        let daemon = try DaemonProcess()
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        for suffix in ["", "-wal", "-shm"] {
            var info = stat()
            try #require(stat(daemon.database + suffix, &info) == 0, "ledger.db\(suffix) exists")
            #expect(info.st_mode & 0o777 == 0o600, "ledger.db\(suffix) has mode \(String(info.st_mode & 0o777, radix: 8))")
        }
    }

    @Test func aDatabaseMadeReadableByOthersIsMadePrivateAgainAtStart() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        _ = daemon.stop()
        chmod(daemon.database, 0o644)
        try daemon.start()
        var info = stat()
        try #require(stat(daemon.database, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func aBackupCopyLeftByAStoppedDaemonIsRemovedAtStart() throws {
        let daemon = try DaemonProcess()
        try daemon.start()
        _ = daemon.stop()
        let stale = daemon.database + ".backup-0F6B1A3C"
        try Data("copy".utf8).write(to: URL(fileURLWithPath: stale))
        let unrelated = daemon.database + ".before-restore-20261201T000000Z"
        try Data("kept".utf8).write(to: URL(fileURLWithPath: unrelated))
        try daemon.start()
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: unrelated), "a restore's saved database is the operator's to remove")
        #expect(daemon.log.contains("backup copy"), "\(daemon.log)")
    }

    /// The private key's base64 text, read from its file, is nowhere in the serving
    /// daemon's readable memory: every buffer that held it was wiped.
    @Test func theKeyFilesTextIsNotLeftInTheDaemonsMemory() throws {
        let daemon = try DaemonProcess()
        let keyText = try String(contentsOfFile: daemon.keyPath, encoding: .utf8)
        // PRIVATE+KEY+<name>+<id>+<base64 secret>
        let secret = Array(keyText.split(separator: "+", maxSplits: 4)[4].trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        try #require(secret.count == 44)
        try daemon.start()
        let client = try daemon.client()
        #expect(try client.post("/v1/consumers", #"{"consumer":"c1","utility":"u1","zone":"CN-ZJ","class":"residential"}"#).status == 200)
        let pid = try #require(daemon.pid)
        // The scan must see what the daemon does hold: its verifier key, public.
        let verifier = Array(daemon.vkey.split(separator: "+")[2].utf8)
        var seesTheVerifier = false
        let scanned = try Self.scanMemory(of: pid) { region in
            #expect(!Self.contains(region.bytes, secret), "the key's text is in \(region.name)")
            seesTheVerifier = seesTheVerifier || Self.contains(region.bytes, verifier)
        }
        #expect(scanned > 1_000_000, "read \(scanned) bytes of the daemon's memory")
        #expect(seesTheVerifier, "the scan found the verifier key's text nowhere")
    }

    struct Region {
        var name: String
        var bytes: [UInt8]
    }

    /// Reads every readable mapping of process `pid` (as root) and hands each to `check`; returns the bytes read.
    static func scanMemory(of pid: pid_t, _ check: (Region) -> Void) throws -> Int {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        let mem = open("/proc/\(pid)/mem", O_RDONLY)
        guard mem >= 0 else { throw DaemonTestFailure("cannot open /proc/\(pid)/mem: \(String(cString: strerror(errno)))") }
        defer { close(mem) }
        var total = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("r") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                end > start, end - start <= 1 << 28
            else { continue }
            let name = fields.count >= 6 ? String(fields[5]) : "[anonymous]"
            if name == "[vvar]" || name == "[vsyscall]" { continue }
            var bytes = [UInt8](repeating: 0, count: Int(end - start))
            let n = bytes.withUnsafeMutableBytes { pread(mem, $0.baseAddress, $0.count, off_t(start)) }
            guard n > 0 else { continue }
            bytes.removeLast(bytes.count - n)
            total += n
            check(Region(name: "\(fields[0]) \(name)", bytes: bytes))
        }
        return total
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
