import App
import ArgumentParser
import Foundation
import Leaderboard

/// `streamsocial print-workshop`: the built-in workshop as a file to start from.
struct PrintWorkshopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-workshop",
        abstract: "Print the built-in workshop (the tutorial's fifteen teams) as JSON, to edit and load with serve --workshop."
    )

    func run() throws {
        try JSONOutput.write(Workshop.default, pretty: true)
    }
}

/// `streamsocial print-topics`: every topic the server expects, with its settings, for
/// an operator creating them by hand (and the tests checking docker/create-topics.sh).
struct PrintTopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-topics",
        abstract: "Print the topics the server reads and writes (name, partitions, settings) as JSON."
    )

    @Option(help: ArgumentHelp("The workshop file whose topics to print. Default: the built-in workshop.", valueName: "file"))
    var workshop: String?

    @OptionGroup var timeline: TimelineTopicOptions

    struct Topic: Encodable {
        var name: String
        var partitions: Int
        var config: [String: String]
    }

    func run() throws {
        let chosen = try workshop.map { path throws(WorkshopError) in try Workshop.load(contentsOf: path) } ?? .default
        try JSONOutput.write(Topics.expected(workshop: chosen, timeline: timeline.spec).map { Topic(name: $0.name, partitions: $0.partitions, config: $0.config) }, pretty: true)
    }
}
