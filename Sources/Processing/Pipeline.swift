import Filters
import Records
import Sinks
import Synchronization
import SystemSupport
import Telemetry

/// The middle of the data flow: lines in, enriched records out to every sink, counted once per batch.
package final class Pipeline: LineConsumer {
    private let enricher: Enricher
    private let fanout: SinkFanout
    private let counters: Counters
    private var batch = RecordBatch()
    /// The batch a sink may still be writing on its own thread (`SinkFanout.writesBehind`) while `batch`
    /// fills: the two take turns, so neither is copied when it is emptied.
    private var spare = RecordBatch()
    private let alternates: Bool
    private var empty = 0
    private var parseErrors = 0
    private var truncated = 0
    /// Some sink names records by their origin (Elasticsearch's `_id`): each record's goes with it.
    let recordsOrigins: Bool
    private var origins: OriginCounter?

    package init(enricher: Enricher, fanout: SinkFanout, counters: Counters, recordsOrigins: Bool = false, recordsMembers: Bool = false) {
        self.enricher = enricher
        self.recordsOrigins = recordsOrigins
        // Some sink takes records apart (OTLP, Loki): the members the enricher's scan found go with them.
        enricher.recordsMembers = recordsMembers
        self.fanout = fanout
        self.counters = counters
        alternates = fanout.writesBehind
    }

    package func begin(_ source: LineSource, format: InputFormat, parser: LineParser?, origins: OriginCounter) {
        enricher.begin(source, format: format, parser: parser)
        if recordsOrigins { self.origins = origins }
    }

    package func consume(_ line: Line, partial: Bool) {
        if batch.isEmpty && empty == 0 && parseErrors == 0 && truncated == 0 { enricher.beginBatch() }
        let records = batch.count
        let outcome = enricher.encode(line, partial: partial, into: &batch)
        if let origins {
            let bytes = line.byteCount + (partial ? 0 : 1)
            if batch.count > records { batch.origins.append(origins.take(lineBytes: bytes)) } else { origins.skip(lineBytes: bytes) }
        }
        switch outcome {
        case .record: break
        case .empty: empty += 1
        case .parseError: parseErrors += 1
        case .truncated: truncated += 1
        }
    }

    package func deliver() -> Bool {
        counters.add(counters.emptyLines, empty)
        counters.add(counters.parseErrors, parseErrors)
        counters.add(counters.linesTruncated, truncated)
        empty = 0
        parseErrors = 0
        truncated = 0
        if let dropped = enricher.filters?.takeDropped() {
            for (counter, amount) in zip(counters.filters, dropped) { counters.add(counter.recordsDropped, amount) }
        }
        if batch.isEmpty { return true }
        if enricher.recordsMembers { batch.padMemberSpans() }
        counters.deliveryStartedMs.store(MonotonicClock.milliseconds(), ordering: .relaxed)
        let delivered = fanout.deliver(batch)
        counters.deliveryStartedMs.store(0, ordering: .relaxed)
        if alternates { swap(&batch, &spare) }
        batch.removeAll()
        if delivered { counters.lastProgressMs.store(MonotonicClock.milliseconds(), ordering: .relaxed) }
        return delivered
    }
}
