import Foundation

/// A user's referral code: 8 of A–Z and 2–9 (no 0 or 1, which read like O and I).
enum ReferralCode {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789")

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet.randomElement(using: &generator) ?? "A" })
    }

    /// The `number`th code in a fixed order (bench data): distinct numbers below 34^8 give distinct codes.
    static func numbered(_ number: Int) -> String {
        var rest = number
        var code: [Character] = []
        for _ in 0..<8 {
            code.append(alphabet[rest % alphabet.count])
            rest /= alphabet.count
        }
        return String(code.reversed())
    }

    /// The stored spelling of what a user typed: trimmed and upper-cased.
    static func normalized(_ typed: String) -> String {
        typed.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }
}
