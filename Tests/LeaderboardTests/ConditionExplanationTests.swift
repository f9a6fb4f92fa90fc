import Leaderboard
import Testing

@Suite("Rules explained from the rules themselves")
struct ConditionExplanationTests {
    @Test("each kind of condition, and combinations in parentheses")
    func kinds() {
        #expect(Condition.contains(field: "industry", values: ["bank", "financ"]).explanation == #"industry contains "bank" or "financ""#)
        #expect(Condition.startsWith(field: "email", values: ["a"]).explanation == #"email starts with "a""#)
        #expect(Condition.notStartsWith(field: "name", values: ["Dr", "Prof"]).explanation == #"name does not start with "Dr" or "Prof""#)
        #expect(Condition.equals(field: "pack", values: ["free"]).explanation == #"pack is "free""#)
        #expect(Condition.isBool(field: "premium", value: true).explanation == "premium is true")
        #expect(Condition.greaterThan(field: "credit", value: 10).explanation == "credit above 10")
        #expect(Condition.lessThan(field: "credit", value: 2.5).explanation == "credit below 2.5")
        let nested = Condition.any([.all([.isBool(field: "premium", value: true), .greaterThan(field: "credit", value: 10)]), .equals(field: "pack", values: ["business"])])
        #expect(nested.explanation == #"(premium is true and credit above 10) or pack is "business""#)
    }

    @Test("every team of the default workshop gets an explanation naming the fields its rule reads")
    func defaultWorkshop() {
        for team in Workshop.default.teams {
            let text = team.rule.explanation
            #expect(!text.isEmpty, "\(team.name)")
            #expect(!text.contains("nothing"), "\(team.name): \(text)")
        }
    }
}
