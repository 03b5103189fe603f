/// The five grades of the Zhejiang carbon-efficiency code, from the peer ratio K
/// (methodology section 6.1).
public enum PeerGrade: Int, Sendable, Hashable, CaseIterable, Comparable {
    /// K <= 0.6.
    case darkGreen = 1
    /// K <= 0.8.
    case lightGreen = 2
    /// K <= 1.2.
    case yellow = 3
    /// K <= 2.0.
    case orange = 4
    /// K > 2.0.
    case red = 5

    /// The grade of `kMilli`: <= 600 -> 1, <= 800 -> 2, <= 1200 -> 3, <= 2000 -> 4, else 5.
    public init(kMilli: Int64) {
        self =
            switch kMilli {
            case ...600: .darkGreen
            case ...800: .lightGreen
            case ...1200: .yellow
            case ...2000: .orange
            default: .red
            }
    }

    /// `dark-green`, `light-green`, `yellow`, `orange`, `red`.
    public var label: String {
        switch self {
        case .darkGreen: "dark-green"
        case .lightGreen: "light-green"
        case .yellow: "yellow"
        case .orange: "orange"
        case .red: "red"
        }
    }

    public static func < (a: PeerGrade, b: PeerGrade) -> Bool { a.rawValue < b.rawValue }
}
