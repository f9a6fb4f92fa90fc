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
