import CarbonConfig
import FuzzSupport

/// The TOML config on arbitrary text: never traps; a config that parses parses the same
/// again, and every path in it is absolute (resolved against the base directory).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let config = try? Config.parse(toml: text, baseDirectory: "/etc/carbonledger") else { return 0 }
    check((try? Config.parse(toml: text, baseDirectory: "/etc/carbonledger")) == config, "parsing is not deterministic")
    let paths = [config.daemon.socket, config.daemon.database, config.ledger.key] + config.program.factors
        + (config.program.zones.map { [$0] } ?? [])
    for path in paths { check(path.hasPrefix("/"), "a relative path survived: \(path.debugDescription)") }
    return 0
}
