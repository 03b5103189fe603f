import GRDB
/// Failures of the store that are not the client's fault.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database contradicts itself or the ledger; the daemon must not sign on top of it.
    case corrupt(String)
    /// The key file does not belong to this ledger.
    case keyMismatch(String)
    /// An entry is larger than the 65,535 bytes a tile bundle can hold.
    case entryTooLarge(kind: String, bytes: Int)
    /// The writer has stopped (the daemon is shutting down).
    case stopped
    /// Another process has the database open for writing.
    case locked(String)
    /// A file of the database could not be created, opened or changed.
    case io(String)
    /// The database's ledger does not extend the highest checkpoint this daemon signed.
    case rollback(String)
    /// Something this storage engine does not do (named, with what does it instead).
    case notOnThisEngine(String)
    /// This store only reads; the message names where writes go.
    case readOnly(String)

    public var description: String {
        switch self {
        case .corrupt(let message): "ledger database is inconsistent: \(message)"
        case .io(let message): message
        case .rollback(let message): message
        case .keyMismatch(let message): message
        case .entryTooLarge(let kind, let bytes): "a \(kind) entry of \(bytes) bytes exceeds the 65535-byte limit"
        case .stopped: "the ledger writer has stopped"
        case .locked(let message): message
        case .notOnThisEngine(let what): what
        case .readOnly(let writer): "this daemon serves reads only (a replica's); send writes to the writer, \(writer)"
        }
    }
}

/// How a client should take a failure of the store: as a full disk (507) or as a
/// store that cannot take writes now (503); nil for anything else.
public enum StoreUnavailability: Sendable, Equatable {
    /// The disk holding the database is full: nothing of the request was stored.
    case diskFull
    /// The store could not complete the request now (shutting down, the writer
    /// stopped, an I/O error): nothing of the request was stored.
    case unavailable(String)

    public init?(_ error: any Error) {
        switch error {
        case let error as DatabaseError where error.resultCode == .SQLITE_FULL:
            self = .diskFull
        case let error as DatabaseError:
            self = .unavailable("the database could not complete the request (\(error.resultCode))")
        case StoreError.stopped:
            self = .unavailable("the ledger writer is stopping")
        case StoreError.corrupt(let message):
            self = .unavailable(message)
        default:
            return nil
        }
    }
}
