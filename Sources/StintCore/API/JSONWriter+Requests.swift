/// The hot requests written by ``JSONWriter``, with the keys and values
/// ``StintJSON/encoder(pretty:)`` gives them (snake_case keys, RFC 3339 times, nil fields left out).
extension AddRequest {
    /// The request as JSON; `nil` when a value cannot be written by hand (a number
    /// that is not finite), and the caller must use `JSONEncoder`, which reports it.
    public func handWrittenJSON() -> [UInt8]? {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("jobs")
        writer.beginArray()
        for job in jobs {
            guard job.write(to: &writer) else { return nil }
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}

extension JobSpec {
    /// Writes the spec as one object; `false` when a number is not finite.
    func write(to writer: inout JSONWriter) -> Bool {
        writer.beginObject()
        if let argv {
            writer.key("argv")
            writer.beginArray()
            for argument in argv { writer.string(argument) }
            writer.endArray()
        }
        if let shell { writer.member("shell", shell) }
        writer.member("cwd", cwd)
        writer.key("env")
        writer.object(env)
        writer.key("labels")
        writer.object(labels)
        if let session { writer.member("session", session) }
        guard writer.member("timeout", timeout) else { return false }
        if let outputCap {
            writer.key("output_cap")
            writer.integer(outputCap)
        }
        if let hold {
            writer.key("hold")
            writer.bool(hold)
        }
        if let queue { writer.member("queue", queue) }
        if let priority {
            writer.key("priority")
            writer.integer(priority)
        }
        if let runAt { writer.member("run_at", RFC3339.format(runAt)) }
        guard writer.member("delay", delay) else { return false }
        if let after {
            writer.key("after")
            writer.beginArray()
            for id in after { writer.integer(id) }
            writer.endArray()
        }
        if let unique { writer.member("unique", unique) }
        if let retries {
            writer.key("retries")
            writer.integer(retries)
        }
        if let retryOn {
            writer.key("retry_on")
            writer.beginArray()
            for code in retryOn { writer.integer(code) }
            writer.endArray()
        }
        if let transientPattern { writer.member("transient_pattern", transientPattern) }
        guard writer.member("backoff_min", backoffMin), writer.member("backoff_max", backoffMax),
            writer.member("stall_after", stallAfter)
        else { return false }
        if let notify { writer.member("notify", notify) }
        if let onEnd { writer.member("on_end", onEnd) }
        writer.endObject()
        return true
    }
}

extension WaitRequest {
    /// The request as JSON; `nil` when it cannot be written by hand (a timeout that
    /// is not finite, or `--until idle:`, whose text form needs Foundation's number formatting).
    public func handWrittenJSON() -> [UInt8]? {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("ids")
        writer.beginArray()
        for id in ids { writer.integer(id) }
        writer.endArray()
        writer.key("any")
        writer.bool(any)
        guard writer.member("timeout", timeout) else { return nil }
        switch until {
        case nil: break
        case .idle?: return nil
        case let condition?: writer.member("until", condition.description)
        }
        writer.endObject()
        return writer.bytes
    }
}

extension JSONWriter {
    /// `"key":"value"`.
    mutating func member(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// `"key":number` when `value` is set; `false` when it is not finite.
    mutating func member(_ name: String, _ value: Double?) -> Bool {
        guard let value else { return true }
        guard value.isFinite else { return false }
        key(name)
        return number(value)
    }

    /// A string-to-string object, its keys as they are (no snake_case conversion, as
    /// `JSONEncoder` leaves dictionary keys alone).
    mutating func object(_ pairs: [String: String]) {
        beginObject()
        for (name, value) in pairs {
            key(name)
            string(value)
        }
        endObject()
    }
}
