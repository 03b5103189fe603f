import CarbonModel

/// A change a consumer could have made in a period, each of the same size (a tenth of
/// something it controls), so that their effects on the score compare fairly. The
/// effect is never estimated: the changed inputs are scored with `cl-score/1` itself.
public enum ScoreChange: String, Sendable, Hashable, CaseIterable {
    /// 10 % less energy, and with it 10 % less of each emission figure.
    case useLess = "use_less"
    /// The same energy in cleaner hours: 10 % less location-based emissions.
    case cleanerHours = "cleaner_hours"
    /// Green certificates for another 10 % of the energy.
    case moreCertificates = "more_certificates"

    /// The inputs as they would have been with this change; nil when the change is
    /// nothing here (no energy to cut or cover, or a grid whose factor is the same in
    /// every hour, where no hour is cleaner).
    ///
    /// Less location-based emissions lower the consumer's own part of its peer group's
    /// `sum_loc_ug` by as much, so the group is what it would have been.
    ///
    /// - Parameter gridVaries: whether the average factor of the consumer's zone can
    ///   differ between the hours of the period.
    public func applied(to inputs: ScoreInputs, gridVaries: Bool) -> ScoreInputs? {
        var changed = inputs
        var t = inputs.totals
        let tenthWh = t.energyWh / 10
        switch self {
        case .useLess:
            guard tenthWh > 0 else { return nil }
            t.energyWh -= tenthWh
            t.locUg -= t.locUg / 10
            t.mktUg -= t.mktUg / 10
            t.estimatedWh = min(t.estimatedWh - t.estimatedWh / 10, t.energyWh)
            t.matchedWh = min(t.matchedWh, t.energyWh)
        case .cleanerHours:
            guard gridVaries, inputs.zoneFlatMg > 0, t.energyWh > 0, t.locUg / 10 > 0 else { return nil }
            t.locUg -= t.locUg / 10
        case .moreCertificates:
            guard tenthWh > 0, t.matchedWh < t.energyWh else { return nil }
            let matched = min(t.energyWh, t.matchedWh + tenthWh)
            // The market-based emissions of the energy still unmatched, pro rata.
            t.mktUg = Int64(Int128(t.mktUg) * Int128(t.energyWh - matched) / Int128(t.energyWh - t.matchedWh))
            t.matchedWh = matched
        }
        if case .peers(var group) = inputs.benchmark {
            group.sumLocUg = max(0, group.sumLocUg - Int128(inputs.totals.locUg - t.locUg))
            changed.benchmark = .peers(group)
        }
        changed.totals = t
        return changed
    }

    /// The change that would have raised the score the most, with the figures it would
    /// have given; nil when none raises it. Ties go to more points, then to the order
    /// of `allCases`.
    ///
    /// - Parameter current: the figures of `inputs` (`ScoreFigures(inputs)`).
    public static func best(
        for inputs: ScoreInputs, current: ScoreFigures, gridVaries: Bool
    ) -> (change: ScoreChange, figures: ScoreFigures)? {
        var best: (change: ScoreChange, figures: ScoreFigures)? = nil
        for change in allCases {
            guard let changed = change.applied(to: inputs, gridVaries: gridVaries),
                let figures = try? ScoreFigures(changed), figures.score > current.score
            else { continue }
            if let b = best,
                (figures.score, figures.points) <= (b.figures.score, b.figures.points)
            {
                continue
            }
            best = (change, figures)
        }
        return best
    }
}
