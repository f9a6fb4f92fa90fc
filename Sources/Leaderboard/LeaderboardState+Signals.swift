/// The lessons the board reads from a team's records: each a plain sentence and the
/// tutorial question it answers (see ``TeachingSignal``).
extension LeaderboardState {
    /// `team`'s signals as of `now` (ms), most basic first: keys, then writers, then
    /// counts, then redelivery and lag.
    public func signals(team name: String, now: Int64) -> [TeachingSignal] {
        guard let state = teams[name] else { return [] }
        let topics = workshop.topics
        var signals: [TeachingSignal] = []
        signals += keySignals(state.stats, topic: topics.teamStats, expected: "the team's name (\"\(name)\")", question: (
            missing: "What happens if you send a stats message without a key?",
            wrong: "Why must the message key match the team name in the value?"
        ))
        signals += keySignals(state.watchlist, topic: topics.watchlist, expected: "the company in the value", question: (
            missing: "Why must the message key match the company name in the value?",
            wrong: "Why must the message key match the company name in the value?"
        ))
        let twoWriters = "What happens if two team members run the same code with the same team name?"
        for (records, topic, number) in [(state.stats, topics.teamStats, "processed"), (state.watchlist, topics.watchlist, "flag_count")]
        where Self.recent(records.lastDecreaseAt, now: now) && records.decreases >= TeachingSignal.writerConflictDecreases {
            signals.append(TeachingSignal(
                kind: .writerConflict, topic: topic,
                sentence: "\(number) went down under one key \(Self.times(records.decreases)): two instances share the key, so the compacted topic keeps whichever wrote last.",
                question: twoWriters
            ))
        }
        if let stats = state.lastStats, let actions = state.actionsAtLastStats, Self.disagree(flagged: stats.flagged, actions: actions) {
            let shared = (state.members ?? 0) > 1 || signals.contains { $0.kind == .writerConflict }
            signals.append(TeachingSignal(
                kind: .statsDisagree, topic: topics.teamStats,
                sentence: "The latest team_stats says flagged \(stats.flagged); the board had \(actions) \(actions == 1 ? "action" : "actions") from the team: "
                    + (shared ? "each instance counts only what it flagged itself." : "a counter kept in memory starts from zero after a restart."),
                question: shared ? twoWriters : "What happens if your program crashes and restarts?"
            ))
        }
        if state.redeliveries > 0 {
            signals.append(TeachingSignal(
                kind: .redelivery,
                sentence: "\(state.redeliveries) \(state.redeliveries == 1 ? "action was" : "actions were") sent again around a rebalance, not counted as mistakes: Kafka delivers at least once, and records read but not yet committed are read again by the member that takes the partition over.",
                question: "Why can one user be processed twice when an instance joins or leaves the group?"
            ))
        }
        if let growth = Self.lagGrowth(state.lagSamples) {
            signals.append(TeachingSignal(
                kind: .lagGrowing, topic: topics.newUsers,
                sentence: "The lag on \(topics.newUsers) grew from \(growth.from) to \(growth.to) in \(growth.seconds) s: users arrive faster than the group reads them; another instance, up to one per partition, shares the load.",
                question: "What happens when a consumer is slower than the producer?"
            ))
        }
        return signals
    }

    /// The missing- or wrong-key signal of one compacted topic, while the team's latest
    /// attempt there is keyed wrong.
    private func keySignals(
        _ records: TeamState.KeyedRecords, topic: String, expected: String, question: (missing: String, wrong: String)
    ) -> [TeachingSignal] {
        switch records.lastKey {
        case .missing?:
            let inTopic = records.missingKey
            var sentence = "\(records.missingKey + records.refused) \(topic) \(records.missingKey + records.refused == 1 ? "record" : "records") had no key: a compacted topic keeps the latest value per key, and a record without one has nothing to be kept under."
            if records.refused > 0 { sentence += " The gateway refused \(records.refused), as Apache Kafka does (INVALID_RECORD)." }
            if inTopic > 0 { sentence += " \(inTopic) reached the topic here: a real Kafka would refuse \(inTopic == 1 ? "it" : "them")." }
            return [TeachingSignal(kind: .missingKey, topic: topic, sentence: sentence, question: question.missing)]
        case .wrong?:
            return [TeachingSignal(
                kind: .wrongKey, topic: topic,
                sentence: "\(records.wrongKey) \(topic) \(records.wrongKey == 1 ? "record was" : "records were") keyed with something other than \(expected): compaction keeps one latest value per key, so a wrong key leaves a second, stale entry beside the right one.",
                question: question.wrong
            )]
        case .correct?, nil:
            return []
        }
    }

    private static func recent(_ time: Int64?, now: Int64) -> Bool {
        guard let time else { return false }
        let (age, overflow) = now.subtractingReportingOverflow(time)
        return !overflow && age <= TeachingSignal.recentMilliseconds
    }

    /// Whether a student's `flagged` is too far from the actions the board saw to be a
    /// record in flight.
    static func disagree(flagged: Int64, actions: Int) -> Bool {
        let actions = Int64(actions)
        let (difference, overflow) = flagged.subtractingReportingOverflow(actions)
        guard !overflow else { return true }
        let allowed = max(Int64(TeachingSignal.statsSlack), Int64((Double(actions) * TeachingSignal.statsTolerance).rounded()))
        return difference.magnitude > UInt64(allowed)
    }

    /// How much the lag grew over the samples, when they span at least 30 s, it grew by
    /// ``TeachingSignal/lagGrowth`` or more and it is at its highest now.
    static func lagGrowth(_ samples: [TeamState.LagSample]) -> (from: Int64, to: Int64, seconds: Int64)? {
        // Samples may come from a snapshot anyone could have written: no overflow.
        guard let first = samples.first, let last = samples.last else { return nil }
        let (span, spanOverflow) = last.at.subtractingReportingOverflow(first.at)
        let (growth, growthOverflow) = last.lag.subtractingReportingOverflow(first.lag)
        guard !spanOverflow, !growthOverflow, span >= 30_000, growth >= TeachingSignal.lagGrowth, samples.allSatisfy({ $0.lag <= last.lag })
        else { return nil }
        return (first.lag, last.lag, span / 1000)
    }

    private static func times(_ count: Int) -> String {
        count == 1 ? "once" : count == 2 ? "twice" : "\(count) times"
    }
}
