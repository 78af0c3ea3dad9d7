import HummingbirdBcrypt
import NIOPosix

/// bcrypt from hummingbird-auth, run on the blocking thread pool: a hash costs far too long for an event loop.
struct PasswordHasher: Sendable {
    let cost: UInt8

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Spends the time a `verify` would, for logins with an unknown email, so both failures look alike.
    func burnVerifyTime(_ password: String) async throws {
        _ = try await self.hash(password)
    }
}
