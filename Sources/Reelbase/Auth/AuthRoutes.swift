import Foundation
import Hummingbird
import SQLKit

/// `/v1/auth`: register, login, refresh (rotating), logout.
struct AuthRoutes {
    let database: Database
    let users: any UserStore
    let refreshTokens: any RefreshTokenStore
    let tokens: TokenIssuer
    let passwords: PasswordHasher
    let ledger: CreditLedger
    let signupBonusCredits: Int
    /// Days the signup bonus's lot lasts; `nil`: it never expires.
    let signupBonusTTLDays: Int?
    let limits: RateLimiter

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("register", use: self.register)
        group.post("login", use: self.login)
        group.post("refresh", use: self.refresh)
        group.post("logout", use: self.logout)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<AuthResponse> {
        let body = try await request.decodeJSON(as: RegisterRequest.self, context: context)
        try body.validate()
        let email = body.email.lowercased()
        let registration = try await self.limits.reserve(.registerIP, subject: self.limits.clientAddress(request, context: context))
        // Before hashing, so that a taken email or username costs no bcrypt round; being no registration, it does not count
        // (but once the window is full it answers 429 like any attempt, so it cannot probe for accounts unlimited).
        let referrer: UUID?
        do {
            try await self.users.checkAvailable(email: email, username: body.username)
            if let code = body.referralCode { referrer = try await self.users.referrer(code: code) } else { referrer = nil }
        } catch {
            try await self.limits.giveBack(registration)
            throw error
        }
        let newUser = NewUser(
            email: email,
            username: body.username,
            displayName: body.displayName ?? body.username,
            passwordHash: try await self.passwords.hash(body.password),
            referredBy: referrer
        )
        let (user, refreshToken) = try await self.database.transaction { connection in
            var user = try await self.users.insert(newUser, on: connection)
            if self.signupBonusCredits > 0 {
                let bonus = CreditLedger.Movement(
                    userID: user.id, type: .bonus, credits: self.signupBonusCredits, description: "Signup bonus",
                    expiresAt: self.signupBonusTTLDays.map { Date().addingTimeInterval(Double($0) * 86_400) })
                user.credits = try await self.ledger.apply(bonus, on: connection).balanceAfter
            }
            let refreshToken = try await self.refreshTokens.issue(userID: user.id, on: connection)
            return (user, refreshToken)
        }
        context.logger.info("user registered", metadata: ["user_id": .string(user.id.lowercased)])
        return EditedResponse(status: .created, response: try await self.answer(user: user, refreshToken: refreshToken))
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> AuthResponse {
        let body = try await request.decodeJSON(as: LoginRequest.self, context: context)
        let rejection = Problem(.unauthorized, code: "invalid_credentials", detail: "Incorrect email or password.")
        // Counted as failed before bcrypt runs (so a full window costs no hash), given back once the password is right.
        let attempt = try await self.limits.reserve(
            [(.loginEmail, body.email.lowercased()), (.loginIP, self.limits.clientAddress(request, context: context))])
        guard let credentials = try await self.users.credentials(email: body.email.lowercased()) else {
            try await self.passwords.burnVerifyTime(body.password)
            throw rejection
        }
        guard try await self.passwords.verify(body.password, hash: credentials.passwordHash),
            let user = try await self.users.find(id: credentials.id)
        else { throw rejection }
        try await self.limits.giveBack(attempt)
        // Only after the right password, so that the answer tells nothing about an account to whoever lacks it.
        guard credentials.suspendedAt == nil else { throw Problem.accountSuspended(.forbidden) }
        let refreshToken = try await self.database.transaction { connection in
            try await self.refreshTokens.issue(userID: user.id, on: connection)
        }
        return try await self.answer(user: user, refreshToken: refreshToken)
    }

    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> AuthResponse {
        let body = try await request.decodeJSON(as: RefreshTokenRequest.self, context: context)
        switch try await self.refreshTokens.rotate(body.refreshToken) {
        case .rotated(let userID, let newToken):
            guard let user = try await self.users.find(id: userID) else { throw Problem.unauthorized("Unknown user.") }
            return try await self.answer(user: user, refreshToken: newToken)
        case .suspended:
            throw Problem.accountSuspended(.forbidden)
        case .invalid:
            throw Problem(.unauthorized, code: "invalid_refresh_token", detail: "The refresh token is invalid, expired or revoked.")
        case .reused:
            context.logger.warning("refresh token reused; family revoked, session ended")
            throw Problem(
                .unauthorized,
                code: "refresh_token_reused",
                detail: "This refresh token was already used; every session of this login has been signed out."
            )
        }
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decodeJSON(as: RefreshTokenRequest.self, context: context)
        try await self.refreshTokens.revokeFamily(of: body.refreshToken)
        return .noContent
    }

    /// The tokens of a session: the access token names the refresh token's family as its session.
    private func answer(user: UserRecord, refreshToken: IssuedRefreshToken) async throws -> AuthResponse {
        AuthResponse(
            user: user.profile,
            accessToken: try await self.tokens.accessToken(for: user.id, session: refreshToken.sessionID),
            refreshToken: refreshToken.token,
            expiresIn: self.tokens.accessTokenTTL
        )
    }
}

extension UserStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .taken(let field):
            Problem(
                .conflict,
                code: "\(field.rawValue)_taken",
                detail: "That \(field.rawValue) is already registered.",
                errors: [FieldError(field: field.rawValue, message: "Is already taken.")]
            )
        case .unknownReferralCode:
            Problem.validation(field: "referral_code", "No user has this referral code.")
        }
    }
}
