import Foundation

/// The language tag to ask the daemon for (`Accept-Language`): `--lang` if given, else
/// the locale of the environment (`LC_ALL`, then `LC_MESSAGES`, then `LANG`, the first
/// one set), `zh_CN.UTF-8` read as `zh-CN`; nil for `C`, `POSIX` or none (the daemon
/// answers in English).
func requestedLanguage(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    if let option { return option }
    guard let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty })
    else { return nil }
    // language[_territory][.codeset][@modifier]
    let name = locale.prefix { $0 != "." && $0 != "@" }
    guard !name.isEmpty, name != "C", name != "POSIX" else { return nil }
    return name.replacingOccurrences(of: "_", with: "-")
}
