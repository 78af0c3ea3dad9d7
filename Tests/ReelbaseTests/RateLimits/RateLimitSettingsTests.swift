import ArgumentParser
import Configuration
import Testing

@testable import Reelbase

/// `RATE_LIMITS` and `TRUSTED_PROXIES` as `reelbase serve` reads them.
@Suite("Rate limits: RATE_LIMITS and TRUSTED_PROXIES")
struct RateLimitSettingsTests {
    @Test func theDefaultsAreAPIsLimits() throws {
        let limits = try ConfigurationTests.serve([]).rateLimits
        #expect(limits == .defaults)
        #expect(limits[.loginEmail] == RateLimit(count: 10, window: 900))
        #expect(limits[.loginIP] == RateLimit(count: 50, window: 900))
        #expect(limits[.registerIP] == RateLimit(count: 20, window: 3600))
        #expect(limits[.promoUser] == RateLimit(count: 10, window: 3600))
        #expect(limits[.reportUser] == RateLimit(count: 50, window: 86_400))
        #expect(limits.description == "login_email=10/15m,login_ip=50/15m,register_ip=20/1h,promo_user=10/1h,report_user=50/1d")
        #expect(try ConfigurationTests.serve([]).trustedProxies.networks.isEmpty)
    }

    @Test func overridesKeepTheOtherDefaults() throws {
        let flags = try ConfigurationTests.serve(["--rate-limits", "login_email=3/30s,report_user=off, PROMO_USER=2/2D"]).rateLimits
        #expect(flags[.loginEmail] == RateLimit(count: 3, window: 30))
        #expect(flags[.reportUser] == nil)
        #expect(flags[.promoUser] == RateLimit(count: 2, window: 172_800))
        #expect(flags[.loginIP] == RateLimits.defaults[.loginIP] && flags[.registerIP] == RateLimits.defaults[.registerIP])
        let variable = try ConfigurationTests.serve([], environment: ["RATE_LIMITS": "login_email=10/15m,register_ip=20/1h"]).rateLimits
        #expect(variable == .defaults)
        let off = try ConfigurationTests.serve(["--rate-limits=OFF"]).rateLimits
        #expect(RateLimitName.allCases.allSatisfy { off[$0] == nil })
        let proxies = try ConfigurationTests.serve([], environment: ["TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1"]).trustedProxies
        #expect(proxies.description == "10.0.0.0/8,192.0.2.1/32,::1/128")
        #expect(try ConfigurationTests.serve(["--trusted-proxies", "10.0.0.0/8,::1"]).trustedProxies.networks.count == 2)
    }

    @Test func aMalformedValueNamesItsVariable() {
        let expected = "expected off or NAME=COUNT/WINDOW (such as login_email=10/15m) with NAME one of login_email, login_ip, "
            + "register_ip, promo_user, report_user, COUNT 1 to 1000000 and WINDOW a number with unit s, m, h or d, at most 30d"
        for entry in ["login_mail=1/1m", "login_email=10", "login_email=0/1m", "login_email=10/15x", "login_email=10/0m", "login_email=1/31d", "on"] {
            #expect(
                ConfigurationTests.message { try ConfigurationTests.serve([], environment: ["RATE_LIMITS": "report_user=5/1d,\(entry)"]) }
                    == "RATE_LIMITS has a malformed entry '\(entry)': \(expected)")
        }
        #expect(
            ConfigurationTests.message { try ConfigurationTests.serve(["--rate-limits", "login_ip=1/1m,login_ip=2/1m"]) }
                == "RATE_LIMITS names login_ip twice")
        for entry in ["10.0.0.0/33", "300.1.1.1", "proxy.local", "::1/129"] {
            #expect(
                ConfigurationTests.message { try ConfigurationTests.serve([], environment: ["TRUSTED_PROXIES": "10.0.0.1,\(entry)"]) }
                    == "TRUSTED_PROXIES has a malformed entry '\(entry)': expected an IP address or a CIDR block such as 10.0.0.0/8")
        }
    }

    @Test func aMalformedValueExits78() async throws {
        for arguments in [["serve", "--rate-limits", "login_email=many"], ["serve", "--trusted-proxies", "everyone"]] {
            let command = try #require(try ReelbaseCommand.parseAsRoot(arguments) as? ServeCommand)
            await #expect(throws: ExitCode(78)) { try await command.run() }
        }
    }
}
