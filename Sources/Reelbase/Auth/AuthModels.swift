import Foundation
import Hummingbird

struct RegisterRequest: Decodable {
    var email: String
    var password: String
    var username: String
    var displayName: String?
    /// The inviting user's code, any case.
    var referralCode: String?

    enum CodingKeys: String, CodingKey {
        case email, password, username
        case displayName = "display_name"
        case referralCode = "referral_code"
    }

    func validate() throws {
        var validator = Validator()
        validator.check(isEmailAddress(self.email), "email", "Must look like local@domain.")
        validator.checkLength(self.password, 8...Int.max, "password", "Must be at least 8 characters.")
        // bcrypt reads at most 72 bytes; a longer password would be silently truncated.
        validator.check(self.password.utf8.count <= 72, "password", "Must be at most 72 bytes.")
        validator.check(isUsername(self.username), "username", "Must match ^[a-z0-9_]{3,30}$.")
        if let displayName {
            validator.checkLength(displayName, 1...100, "display_name", "Must be 1 to 100 characters.")
        }
        try validator.validate()
    }
}

struct LoginRequest: Decodable {
    var email: String
    var password: String
}

struct RefreshTokenRequest: Decodable {
    var refreshToken: String

    enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
}

/// Answer of register, login and refresh.
struct AuthResponse: ResponseEncodable {
    var user: UserProfile
    var accessToken: String
    var refreshToken: String
    var tokenType = "bearer"
    var expiresIn: Int

    enum CodingKeys: String, CodingKey {
        case user
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
    }
}

/// `local@domain`: one `@`, something on each side, no spaces, at most 254 characters.
func isEmailAddress(_ string: String) -> Bool {
    let parts = string.split(separator: "@", omittingEmptySubsequences: false)
    return string.lengthInCodePoints <= 254 && parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
        && !string.contains(where: { $0.isWhitespace }) && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
}

/// `^[a-z0-9_]{3,30}$`, byte by byte: a `Character` range would let `a` followed by a combining mark through.
func isUsername(_ string: String) -> Bool {
    (3...30).contains(string.utf8.count)
        && string.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }
}
