import CarbonConfig
import Testing

/// The base directory the tests resolve relative paths against.
let base = "/srv/carbonledger"

/// The repository (or package) root: this file is `Tests/CarbonConfigTests/ConfigTestSupport.swift`.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Parses `toml`, failing the test with the config error if it is rejected.
func parse(_ toml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Config {
    do {
        return try Config.parse(toml: toml, baseDirectory: base)
    } catch {
        Issue.record("rejected: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The error `toml` is rejected with, or nil (and a test failure) if it is accepted.
func rejection(_ toml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do {
        let config = try Config.parse(toml: toml, baseDirectory: base)
        Issue.record("accepted: \(config)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
