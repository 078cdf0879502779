/// Cardinal numbers 0…999,999 written out in English and in French.
///
/// The built-in default corpus translates one into the other: the vocabulary is tiny, every pair is
/// correct by construction, and the French side reorders and merges words ("soixante-dix-sept",
/// "quatre-vingts", "deux cents" but "deux cent mille"), so a model has to learn more than a
/// word-for-word table. Sentences are long enough (up to ~12 source words) that source reversal
/// (Sutskever et al. 2014) matters.
public enum NumberWords {
    private static let englishOnes = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen",
    ]
    private static let englishTens = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ]

    /// "342701" → "three hundred forty-two thousand seven hundred one". Precondition: 0…999,999.
    public static func english(_ n: Int) -> String {
        precondition((0..<1_000_000).contains(n), "number out of range: \(n)")
        if n == 0 { return "zero" }
        var parts: [String] = []
        let thousands = n / 1000, rest = n % 1000
        if thousands > 0 { parts.append(englishBelowThousand(thousands) + " thousand") }
        if rest > 0 { parts.append(englishBelowThousand(rest)) }
        return parts.joined(separator: " ")
    }

    private static func englishBelowThousand(_ n: Int) -> String {
        var parts: [String] = []
        if n >= 100 { parts.append(englishOnes[n / 100] + " hundred") }
        let r = n % 100
        if r > 0 {
            if r < 20 {
                parts.append(englishOnes[r])
            } else if r % 10 == 0 {
                parts.append(englishTens[r / 10])
            } else {
                parts.append(englishTens[r / 10] + "-" + englishOnes[r % 10])
            }
        }
        return parts.joined(separator: " ")
    }

    private static let frenchOnes = [
        "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
        "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf",
    ]
    private static let frenchTens = [
        "", "", "vingt", "trente", "quarante", "cinquante", "soixante",
    ]

    /// "342701" → "trois cent quarante-deux mille sept cent un" (traditional spelling, before the
    /// 1990 reform: hyphens only below one hundred). Precondition: 0…999,999.
    public static func french(_ n: Int) -> String {
        precondition((0..<1_000_000).contains(n), "number out of range: \(n)")
        if n == 0 { return "zéro" }
        var parts: [String] = []
        let thousands = n / 1000, rest = n % 1000
        if thousands == 1 {
            parts.append("mille")
        } else if thousands > 1 {
            // "quatre-vingts" and "deux cents" lose their plural s before "mille".
            parts.append(frenchBelowThousand(thousands, final: false) + " mille")
        }
        if rest > 0 { parts.append(frenchBelowThousand(rest, final: true)) }
        return parts.joined(separator: " ")
    }

    /// `final`: whether the group ends the number (then 80 and 200, 300… take their plural s).
    private static func frenchBelowThousand(_ n: Int, final: Bool) -> String {
        var parts: [String] = []
        let hundreds = n / 100, r = n % 100
        if hundreds == 1 {
            parts.append("cent")
        } else if hundreds > 1 {
            parts.append(frenchOnes[hundreds] + (r == 0 && final ? " cents" : " cent"))
        }
        if r > 0 { parts.append(frenchBelowHundred(r, final: final)) }
        return parts.joined(separator: " ")
    }

    private static func frenchBelowHundred(_ n: Int, final: Bool) -> String {
        if n < 20 { return frenchOnes[n] }
        if n < 70 {
            let tens = frenchTens[n / 10], unit = n % 10
            if unit == 0 { return tens }
            if unit == 1 { return tens + " et un" }
            return tens + "-" + frenchOnes[unit]
        }
        if n < 80 {  // soixante-dix … soixante-dix-neuf, with "soixante et onze"
            return n == 71 ? "soixante et onze" : "soixante-" + frenchOnes[n - 60]
        }
        if n == 80 { return final ? "quatre-vingts" : "quatre-vingt" }
        return "quatre-vingt-" + frenchOnes[n - 80]
    }
}
