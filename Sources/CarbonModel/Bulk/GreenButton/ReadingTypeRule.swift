/// What a ReadingType makes of its readings: imported or exported, the power of ten
/// their values are written in, or the problems that make each of them a record error.
struct ReadingTypeRule {
    var isImport = true
    var multiplier = 0
    var problems: [(field: String, message: String)] = []
}

// In an extension, so that `ReadingTypeRule()` is still there to start from.
extension ReadingTypeRule {
    /// The rule of a ReadingType, as `FeedReader` found its fields.
    init(checking type: FeedReader.ReadingTypeFields) {
        var rule = ReadingTypeRule()
        func check(_ field: FeedReader.TypeField, _ name: String, missing: String, accept: (Int64) -> String?) {
            let path = "ReadingType.\(name)"
            if let problem = field.problem {
                rule.problems.append((path, problem))
            } else if let value = field.value {
                if let problem = accept(value) { rule.problems.append((path, problem)) }
            } else {
                rule.problems.append((path, "\(name) is missing; \(missing)"))
            }
        }
        check(type.uom, "uom", missing: "only 72 (Wh) is accepted") { uom in
            uom == ESPICode.wattHours ? nil : "uom \(ESPICode.unit(uom)) is not energy; only 72 (Wh) is accepted"
        }
        check(
            type.accumulationBehaviour, "accumulationBehaviour",
            missing: "only interval data (4, deltaData) is accepted"
        ) {
            $0 == ESPICode.intervalData
                ? nil
                : "accumulationBehaviour \(ESPICode.accumulation($0)) is not interval data; "
                    + "only interval data (accumulationBehaviour 4, deltaData) is accepted"
        }
        check(type.flowDirection, "flowDirection", missing: "1 (forward: import) or 19 (reverse: export) is needed") {
            switch $0 {
            case ESPICode.forward: rule.isImport = true
            case ESPICode.reverse: rule.isImport = false
            default:
                return "flowDirection \($0) is not accepted: "
                    + "only 1 (forward: energy imported) and 19 (reverse: energy exported) are"
            }
            return nil
        }
        let multiplier = type.powerOfTenMultiplier
        if multiplier.seen {
            check(multiplier, "powerOfTenMultiplier", missing: "") {
                guard ESPICode.multiplierRange.contains($0) else {
                    return "powerOfTenMultiplier must be from -12 to 12, got \($0)"
                }
                rule.multiplier = Int($0)
                return nil
            }
        }
        self = rule
    }
}
