import CarbonConfig
import Foundation
import Testing

@Suite("The shipped config files")
struct ShippedConfigTests {
    let developer = repositoryRoot + "/config/carbonledger.toml"
    let system = repositoryRoot + "/config/carbonledger.system.toml"

    @Test func developerConfigRunsFromTheRepositoryRoot() throws {
        let config = try Config.load(path: developer, baseDirectory: "/home/dev/carbonledger")
        #expect(config.daemon.socket == "/home/dev/carbonledger/var/run/carbonledger.sock")
        #expect(config.daemon.database == "/home/dev/carbonledger/var/lib/carbonledger.db")
        #expect(config.daemon.socketMode == 0o660)
        #expect(config.daemon.socketGroup == "")
        #expect(config.ledger.origin == "carbonledger.local/demo")
        #expect(config.ledger.key == "/home/dev/carbonledger/var/lib/carbonledger.key")
        #expect(config.program.factors == ["/home/dev/carbonledger/config/factors/cn-mee-annual.csv"])
        #expect(config.program.zones == "/home/dev/carbonledger/config/factors/cn-zones.csv")
        #expect(config.grants == [Grant(matcher: .daemonUser, role: .admin)])
    }

    @Test func developerConfigWritesTheDefaults() throws {
        let config = try Config.load(path: developer, baseDirectory: "/b")
        let defaults = try Config.parse(toml: "", baseDirectory: "/b")
        #expect(config.daemon == defaults.daemon)
        #expect(config.ledger == defaults.ledger)
        #expect(config.limits == defaults.limits)
        var program = config.program
        program.factors = []
        program.zones = nil
        #expect(program == defaults.program)
    }

    @Test func loadResolvesAgainstTheWorkingDirectory() throws {
        let config = try Config.load(path: developer)
        let cwd = FileManager.default.currentDirectoryPath
        #expect(config.daemon.socket == cwd + "/var/run/carbonledger.sock")
    }

    @Test func systemConfigUsesAbsolutePaths() throws {
        let config = try Config.load(path: system, baseDirectory: "/somewhere/else")
        #expect(config.daemon.socket == "/run/carbonledger/api.sock")
        #expect(config.daemon.socketGroup == "carbonledger")
        #expect(config.daemon.socketMode == 0o660)
        #expect(config.daemon.database == "/var/lib/carbonledger/carbonledger.db")
        #expect(config.ledger.key == "/var/lib/carbonledger/ledger.key")
        #expect(config.program.factors == ["/usr/local/share/carbonledger/factors/cn-mee-annual.csv"])
        #expect(config.program.zones == "/usr/local/share/carbonledger/factors/cn-zones.csv")
        #expect(config.grants == [Grant(matcher: .group("carbonledger-admin"), role: .admin)])
    }

    /// Every commented example must be valid once uncommented: operators copy them.
    @Test(arguments: ["carbonledger.toml", "carbonledger.system.toml"])
    func commentedExamplesAreValid(file: String) throws {
        let text = try String(contentsOfFile: repositoryRoot + "/config/" + file, encoding: .utf8)
        let example = /^# (\[\[|[a-z_]+ = )/
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.prefixMatch(of: example) != nil ? line.dropFirst(2) : line
        }.joined(separator: "\n")
        let config = try parse(uncommented)
        #expect(Set(config.grants.map(\.role)) == Set(Role.allCases))
        #expect(config.program.staticBenchmarks == [.init(zone: "CN", class: "residential", ugPerDay: 2_500_000_000)])
    }

    @Test func unitsAgreeWithTheSystemConfig() throws {
        let config = try Config.load(path: system, baseDirectory: "/")
        let socketUnit = try String(contentsOfFile: repositoryRoot + "/systemd/carbonledgerd.socket", encoding: .utf8)
        let serviceUnit = try String(contentsOfFile: repositoryRoot + "/systemd/carbonledgerd.service", encoding: .utf8)
        #expect(socketUnit.contains("ListenStream=\(config.daemon.socket)\n"))
        #expect(socketUnit.contains("SocketGroup=\(config.daemon.socketGroup)\n"))
        #expect(socketUnit.contains("SocketMode=0\(String(config.daemon.socketMode, radix: 8))\n"))
        #expect(serviceUnit.contains("--config /usr/local/etc/carbonledger/carbonledger.toml"))
        #expect(config.daemon.shutdownTimeout < ConfigDuration(seconds: 45))  // TimeoutStopSec=45s
        #expect(serviceUnit.contains("TimeoutStopSec=45s\n"))
    }
}
