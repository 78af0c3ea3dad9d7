import Foundation
import Hummingbird

/// A credit package on sale. Money is kept in integer cents; JSON shows it as a two-decimal number.
struct CreditPackage: Sendable, Equatable {
    var id: String
    var credits: Int
    var priceCents: Int
    var name: String
    var currency: String

    /// Price per credit in ten-thousandths of the currency unit, rounded half up (19.99 / 500 → 400 → 0.04).
    var pricePerCreditMilliCents: Int {
        (self.priceCents * 100 * 2 + self.credits) / (2 * self.credits)
    }
}

/// The packages on sale: the seed's four, or those of `CREDIT_PACKAGES_FILE`.
struct CreditCatalog: Sendable {
    let packages: [CreditPackage]

    static let seed = CreditCatalog(packages: [
        CreditPackage(id: "starter_100", credits: 100, priceCents: 499, name: "Starter Pack", currency: "USD"),
        CreditPackage(id: "basic_500", credits: 500, priceCents: 1999, name: "Basic Pack", currency: "USD"),
        CreditPackage(id: "pro_2000", credits: 2000, priceCents: 6999, name: "Pro Pack", currency: "USD"),
        CreditPackage(id: "premium_5000", credits: 5000, priceCents: 14999, name: "Premium Pack", currency: "USD"),
    ])

    func package(id: String) -> CreditPackage? {
        self.packages.first { $0.id == id }
    }

    /// Reads a catalog file: `{"packages": [{"id", "credits", "price", "name", "currency"?}]}` with prices as
    /// decimal numbers of at most two places. Anything else stops start-up with a message saying what is wrong.
    init(contentsOf path: String) throws {
        struct File: Decodable {
            struct Package: Decodable {
                var id: String
                var credits: Int
                var price: Decimal
                var name: String
                var currency: String?
            }
            var packages: [Package]
        }
        let file = try ConfigurationError.decodeFile(File.self, at: path, setting: "CREDIT_PACKAGES_FILE", holding: "packages")
        var seen = Set<String>()
        self.packages = try file.packages.map { package in
            guard let priceCents = Money.positiveCents(package.price) else {
                throw ConfigurationError("CREDIT_PACKAGES_FILE: package '\(package.id)' needs a positive price with at most two decimals")
            }
            guard package.credits > 0, !package.id.isEmpty, !package.name.isEmpty, seen.insert(package.id).inserted else {
                throw ConfigurationError("CREDIT_PACKAGES_FILE: package '\(package.id)' needs a unique id, a name and credits > 0")
            }
            return CreditPackage(
                id: package.id, credits: package.credits, priceCents: priceCents, name: package.name,
                currency: (package.currency ?? "USD").uppercased())
        }
        guard !self.packages.isEmpty else { throw ConfigurationError("CREDIT_PACKAGES_FILE \(path) lists no packages") }
    }

    init(packages: [CreditPackage]) {
        self.packages = packages
    }
}

/// A money amount as the API shows it: a JSON number with two decimals (`19.99`), from integer cents.
struct Money: Encodable, Sendable {
    var cents: Int

    /// The cents of a price read from a file: `nil` unless positive with at most two decimals.
    static func positiveCents(_ price: Decimal) -> Int? {
        let cents = price * 100
        guard let whole = Int(exactly: NSDecimalNumber(decimal: cents).doubleValue), Decimal(whole) == cents, whole > 0 else { return nil }
        return whole
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Decimal(self.cents) / 100)
    }
}

/// `GET /v1/credits/packages`
struct PackageList: ResponseEncodable {
    struct Item: Encodable {
        var id: String
        var credits: Int
        var price: Money
        var name: String
        var pricePerCredit: Decimal
        var currency: String

        enum CodingKeys: String, CodingKey {
            case id, credits, price, name, currency
            case pricePerCredit = "price_per_credit"
        }
    }

    var packages: [Item]

    init(_ catalog: CreditCatalog) {
        self.packages = catalog.packages.map {
            Item(
                id: $0.id, credits: $0.credits, price: Money(cents: $0.priceCents), name: $0.name,
                pricePerCredit: Decimal($0.pricePerCreditMilliCents) / 10_000, currency: $0.currency)
        }
    }
}
