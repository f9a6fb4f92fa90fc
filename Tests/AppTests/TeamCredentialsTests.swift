import App
import Testing

@Suite("The teams' credentials file")
struct TeamCredentialsTests {
    static let teams: Set<String> = ["team-1", "team-2"]

    @Test("the file scram-users.sh writes: header, then team,username,password; CRLF and blank lines tolerated")
    func parses() throws {
        let credentials = try TeamCredentials.parse("team,username,password\r\nteam-1,team-1,Ab3\r\n\nteam-2,u2,Zz9\n", teams: Self.teams)
        #expect(credentials.entries.map(\.team) == ["team-1", "team-2"])
        #expect(credentials.entries.map(\.username) == ["team-1", "u2"])
        #expect(credentials.entries.map(\.password) == ["Ab3", "Zz9"])
    }

    @Test("refused with the line: no header, a missing field, an unknown team, a team twice, an empty file")
    func refuses() {
        let cases: [(String, String)] = [
            ("team-1,team-1,x\n", "line 1: expected the header team,username,password"),
            ("team,username,password\nteam-1,team-1\n", "line 2: expected team,username,password with none empty"),
            ("team,username,password\nteam-1,,x\n", "line 2: expected team,username,password with none empty"),
            ("team,username,password\nteam-1,team-1,a,b\n", "line 2: expected team,username,password with none empty"),
            ("team,username,password\nteam-9,team-9,x\n", "line 2: team-9 is not a team of the workshop"),
            ("team,username,password\nteam-1,a,x\nteam-1,b,y\n", "line 3: team-1 is listed twice"),
            ("\n \n", "line 1: empty file: expected the header team,username,password"),
        ]
        for (text, message) in cases {
            let error = #expect(throws: TeamCredentials.ParseError.self) { try TeamCredentials.parse(text, teams: Self.teams) }
            #expect(error?.description == message, "\(text)")
        }
    }
}
