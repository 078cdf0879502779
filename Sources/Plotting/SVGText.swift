/// Number and text formatting for SVG output. Hand-written rather than `String(format:)` so the
/// module needs no Foundation and the same input gives the same bytes everywhere.
enum SVGText {
    /// `value` rounded to `decimals` places, trailing zeros (and a bare point) removed:
    /// 12.5, 3, -0.25. Coordinates use two places, a hundredth of a pixel.
    static func number(_ value: Double, decimals: Int = 2) -> String {
        var text = fixed(value, decimals: decimals)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// `value` with exactly `decimals` places (half away from zero): fixed(14.4726, 2) = "14.47".
    /// Values too large for an exact integer scaling fall back to Swift's shortest description.
    static func fixed(_ value: Double, decimals: Int) -> String {
        precondition(decimals >= 0 && decimals <= 9, "SVGText.fixed supports 0...9 decimals, got \(decimals)")
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled.isFinite, abs(scaled) < 9.0e15 else { return value.description }
        let magnitude = Int(abs(scaled))
        let divisor = Int(scale)
        var text = scaled < 0 ? "-" : ""
        text += String(magnitude / divisor)
        if decimals > 0 {
            let fraction = String(magnitude % divisor)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }

    /// Escapes text for element content and attribute values.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
