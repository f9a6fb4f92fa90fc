import FastJSON
import Foundation
import HTTPServer
import Kafka
import Leaderboard
import Logging
import Timeline

/// The leaderboard's routes and the instructor's controls of the class (generator,
/// simulated teams).
extension Routes {
    // MARK: Leaderboard

    func team(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let name = request.pathParameters["team"] ?? ""
        guard let row = leaderboard.report().teams.first(where: { $0.team == name }),
              let definition = leaderboard.workshop.team(named: name),
              let state = leaderboard.team(named: name)
        else {
            throw HTTPError(status: 404, code: "unknown_team", message: "no team \(name) in this workshop")
        }
        var detail = TeamDetail(row: row, rule: definition.rule.explanation, type: definition.type, reason: definition.reason, state: state)
        detail.clients = connectedClients?.clients(of: name)
        return .json(detail)
    }

    /// Who is connected through the Kafka gateway, refreshed every second.
    func connectedClientsReport(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        guard let connectedClients else {
            throw HTTPError(status: 404, code: "no_gateway", message: "the server runs against a real Kafka cluster: its clients connect to the brokers, not through the gateway")
        }
        return .json(connectedClients.report)
    }

    /// `{"teams": N}`: stops the simulated class and starts N teams (0 stops it), in the
    /// background: 202 at once, `GET` shows the change until it is done.
    func resizeSimulator(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let fields = try Self.object(request.body)
        guard case .integer(let teams) = fields["teams"], (0...Int64(simulator.maximum)).contains(teams) else {
            throw HTTPError.badRequest("teams must be a whole number from 0 to \(simulator.maximum)", code: "invalid_field")
        }
        simulator.resize(to: Int(teams))
        logger.info("simulated teams resizing", metadata: ["teams": .stringConvertible(teams)])
        return .json(simulator.status(), status: 202)
    }

    func generatorSettings(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        .json(generator.settings)
    }

    /// `{"rate": 20}` and/or `{"paused": true}`.
    func changeGenerator(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let fields = try Self.object(request.body)
        var rate: Double?
        switch fields["rate"] {
        case .integer(let value): rate = Double(value)
        case .number(let value): rate = value
        case nil: break
        default: throw HTTPError.badRequest("rate must be a number", code: "invalid_field")
        }
        if let rate, !(0...10_000).contains(rate) {
            throw HTTPError.badRequest("rate must be 0 to 10000 users per second", code: "invalid_field")
        }
        var paused: Bool?
        switch fields["paused"] {
        case .bool(let value): paused = value
        case nil: break
        default: throw HTTPError.badRequest("paused must be true or false", code: "invalid_field")
        }
        let settings = generator.change(rate: rate, paused: paused)
        logger.info("generator changed", metadata: ["rate": .stringConvertible(settings.rate), "paused": .stringConvertible(settings.paused)])
        return .json(settings)
    }
}
