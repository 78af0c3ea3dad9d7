import NIOCore
import PostgresNIO
import SQLiteNIO
@preconcurrency import AsyncKit

/// The database could not be reached (or could not grant a connection in time). Answered as `503`.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    /// Why, for the log line and the `reelbase_db_unavailable_total{reason}` counter: each one calls for a different fix
    /// (a bigger pool, a healthier server, less contention on some rows).
    public enum Reason: String, Sendable {
        /// A recent probe could not reach the server: refused at once.
        case serverUnreachable = "server_unreachable"
        /// No pooled connection was free within the lease timeout.
        case leaseTimeout = "lease_timeout"
        /// The pool refused the lease without waiting (closing, or its connections failing to open).
        case poolRefused = "pool_refused"
        /// The leased connection closed before the statement was written.
        case connectionClosed = "connection_closed"
        /// Every attempt of a transaction met a serialization failure, deadlock or busy database.
        case retriesExhausted = "retries_exhausted"
        /// The driver reported the server or the connection gone (see the underlying error in the log).
        case connectionLost = "connection_lost"
    }

    public let reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    public var description: String { "the database is unavailable (\(self.reason.rawValue))" }
}

/// What a failed statement means to the caller, independent of the driver that raised it.
enum DatabaseFailure {
    /// A serialization failure, deadlock or lock timeout: the whole transaction may be run again.
    case retryable
    /// The database is unreachable or going away: answer `503` and let the client retry.
    case unavailable
    /// A unique constraint rejected the write.
    case uniqueViolation
    /// Anything else: a bug or an unexpected state.
    case other

    init(_ error: any Error) {
        switch error {
        case is DatabaseUnavailable:
            self = .unavailable
        case let error as PSQLError:
            self = Self(postgres: error)
        case let error as SQLiteError:
            switch error.reason {
            case .busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot, .lockedBySharedCache:
                self = .retryable
            case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
                self = .uniqueViolation
            case .cantOpen, .ioError, .full:
                self = .unavailable
            default:
                self = .other
            }
        case is ConnectionPoolError, is ConnectionPoolTimeoutError:
            // The SQLite pool could not hand out a connection in time, or is shutting down.
            self = .unavailable
        case is ChannelError, is IOError:
            self = .unavailable
        default:
            self = .other
        }
    }

    private init(postgres error: PSQLError) {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            switch state {
            case "40001", "40P01", "55P03":
                self = .retryable
            case "23505":
                self = .uniqueViolation
            case _ where state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300":
                // connection exceptions, admin shutdown / cannot connect now, too many connections
                self = .unavailable
            default:
                self = .other
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            .sslUnsupported, .failedToAddSSLHandler:
            self = .unavailable
        default:
            self = .other
        }
    }
}

/// A row that breaks an invariant the schema should have kept (a bug, answered `500`).
struct UnexpectedRow: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
