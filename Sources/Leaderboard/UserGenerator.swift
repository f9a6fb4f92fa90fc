import FastJSON

/// Fake `new_users` records, seeded so a session can be replayed, varied so that each
/// default team's rule matches roughly 5–33 % of users (a team waiting a minute for its
/// first match is a bored team).
public struct UserGenerator: Sendable {
    private var random: SplitMix64
    private var counter = 0

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// The next user as a JSON record value (sorted keys).
    public mutating func next() -> [UInt8] {
        counter += 1
        let first = pick(["Ada", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jun", "Kai", "Lena", "Mo", "Nia", "Omar", "Pia"])
        let last = pick(["Smith", "García", "Chen", "Okafor", "Müller", "Rossi", "Kim", "Dubois", "Nowak", "Silva"])
        let johnDoe = chance(0.08)
        let name = johnDoe ? "John Doe" : "\(first) \(last)"
        let handle = "\(first.lowercased().filter(\.isLetter)).\(last.lowercased().filter(\.isLetter))\(counter)"
        let domain = pick(["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "proton.me", "icloud.com"])
        let company = pick(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Wonka"])
        let industry = pick([
            // ~20 % each for the financial, tech and health teams; the rest match none.
            "Banking", "Financial Services", "Insurance", "Investment Management",
            "Computer Software", "Internet", "Semiconductors", "Telecommunications",
            "Hospital & Health Care", "Pharmaceuticals", "Medical Devices", "Biotechnology",
            "Retail", "Construction", "Education Management", "Hospitality", "Logistics", "Media", "Farming", "Arts",
        ])
        let cardPrefix = pick(["4", "4", "5", "37", "6011"])
        let card = cardPrefix + String((0..<(16 - cardPrefix.count)).map { _ in Character(String(random.next() % 10)) })
        let timeZone = weighted([
            ("Asia/Tokyo", 7), ("Asia/Kolkata", 7), ("Asia/Singapore", 6),
            ("Europe/Paris", 9), ("Europe/Berlin", 8), ("Europe/Madrid", 8),
            ("America/New_York", 20), ("America/Chicago", 15), ("America/Sao_Paulo", 10), ("Africa/Lagos", 10),
        ])
        let userAgent = chance(0.15)
            ? pick(["Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)", "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko"])
            : pick(["Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "Mozilla/5.0 (Macintosh) Safari/605.1.15", "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0"])
        let avatar = weighted([
            ("https://cdn.\(company.lowercased()).com/\(handle).png", 75), ("https://example.org/\(handle).png", 10), ("http://img.\(company.lowercased()).com/\(handle).png", 15),
        ])
        let fields: [(String, FlatJSON.Value)] = [
            ("avatar", .string(avatar)),
            ("company_name", .string(company)),
            ("company_slogan", .string(pick(["Think different", "Just do it", "Move fast", "Built to last", "Because you're worth it"]))),
            ("credit", .integer(Int64(random.next() % 61) - 30)),
            ("credit_card_number", .string(card)),
            ("email", .string("\(handle)@\(domain)")),
            ("field", .string(pick(["IT", "Technology", "Arts", "Finance", "Health", "Education", "Sales", "Marketing"]))),
            ("industry", .string(industry)),
            ("name", .string(name)),
            ("pack", .string(pick(["free", "premium", "business"]))),
            ("premium", .bool(chance(0.4))),
            ("profession", .string(pick(["engineer", "teacher", "designer", "nurse", "lawyer", "accountant"]))),
            ("time_zone", .string(timeZone)),
            ("user_agent", .string(userAgent)),
            ("user_name", .string(handle)),
        ]
        return JSONWriter.object(fields)
    }

    private mutating func pick(_ values: [String]) -> String {
        values[Int(random.next() % UInt64(values.count))]
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double(random.next() % 1_000_000) / 1_000_000 < probability
    }

    private mutating func weighted(_ values: [(String, Int)]) -> String {
        let total = values.reduce(0) { $0 + $1.1 }
        var roll = Int(random.next() % UInt64(total))
        for (value, weight) in values {
            if roll < weight { return value }
            roll -= weight
        }
        return values[values.count - 1].0
    }
}

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same users.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
