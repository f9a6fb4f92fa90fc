/// Snapshots in `leaderboard_state` outlive the version that wrote them: a field added
/// later (redeliveries, the lag samples, …) is absent from an older snapshot and takes
/// its default, so an upgrade mid-workshop keeps the board instead of rebuilding it.
extension TeamState {
    enum CodingKeys: String, CodingKey {
        case valid, streak, bestStreak, mistakes, flagged, sent, stats, watchlist, lastStats
        case members, groupMembers, groupState, connected, startedAt, groupChangedAt, redeliveries
        case lag, lagWasHigh, lagSamples, actionsAtLastStats, lastActivityAt, lastMistakes, unlocked
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        valid = try container.decodeIfPresent(Int.self, forKey: .valid) ?? 0
        streak = try container.decodeIfPresent(Int.self, forKey: .streak) ?? 0
        bestStreak = try container.decodeIfPresent(Int.self, forKey: .bestStreak) ?? 0
        mistakes = try container.decodeIfPresent([Mistake: Int].self, forKey: .mistakes) ?? [:]
        flagged = try container.decodeIfPresent(Set<String>.self, forKey: .flagged) ?? []
        sent = try container.decodeIfPresent(Set<String>.self, forKey: .sent) ?? []
        stats = try container.decodeIfPresent(KeyedRecords.self, forKey: .stats) ?? KeyedRecords()
        watchlist = try container.decodeIfPresent(KeyedRecords.self, forKey: .watchlist) ?? KeyedRecords()
        lastStats = try container.decodeIfPresent(TeamStats.self, forKey: .lastStats)
        members = try container.decodeIfPresent(Int.self, forKey: .members)
        groupMembers = try container.decodeIfPresent([GroupMember].self, forKey: .groupMembers)
        groupState = try container.decodeIfPresent(String.self, forKey: .groupState)
        connected = try container.decodeIfPresent(Bool.self, forKey: .connected) ?? false
        startedAt = try container.decodeIfPresent(Int64.self, forKey: .startedAt)
        groupChangedAt = try container.decodeIfPresent(Int64.self, forKey: .groupChangedAt)
        redeliveries = try container.decodeIfPresent(Int.self, forKey: .redeliveries) ?? 0
        lag = try container.decodeIfPresent(Int64.self, forKey: .lag)
        lagWasHigh = try container.decodeIfPresent(Bool.self, forKey: .lagWasHigh) ?? false
        lagSamples = try container.decodeIfPresent([LagSample].self, forKey: .lagSamples) ?? []
        actionsAtLastStats = try container.decodeIfPresent(Int.self, forKey: .actionsAtLastStats)
        lastActivityAt = try container.decodeIfPresent(Int64.self, forKey: .lastActivityAt)
        lastMistakes = try container.decodeIfPresent([Mistake: OffendingRecord].self, forKey: .lastMistakes) ?? [:]
        unlocked = try container.decodeIfPresent([Achievement: Int64].self, forKey: .unlocked) ?? [:]
    }
}

extension TeamState.KeyedRecords {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            records: try container.decodeIfPresent(Int.self, forKey: .records) ?? 0,
            correctKey: try container.decodeIfPresent(Int.self, forKey: .correctKey) ?? 0,
            missingKey: try container.decodeIfPresent(Int.self, forKey: .missingKey) ?? 0,
            wrongKey: try container.decodeIfPresent(Int.self, forKey: .wrongKey) ?? 0,
            invalid: try container.decodeIfPresent(Int.self, forKey: .invalid) ?? 0
        )
        refused = try container.decodeIfPresent(Int.self, forKey: .refused) ?? 0
        lastKey = try container.decodeIfPresent(KeyCheck.self, forKey: .lastKey)
        lastKeyAt = try container.decodeIfPresent(Int64.self, forKey: .lastKeyAt)
        decreases = try container.decodeIfPresent(Int.self, forKey: .decreases) ?? 0
        lastDecreaseAt = try container.decodeIfPresent(Int64.self, forKey: .lastDecreaseAt)
    }
}
