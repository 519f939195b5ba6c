package dev.tollgate.gateway.spool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * A local, durable write-ahead spool for usage events: every event is appended to a file first and
 * forwarded to Kafka from there, in order, so that a Kafka outage loses nothing and the gateway keeps
 * serving. Callers never touch the disk: {@link #offer} puts the record on a bounded queue and wakes
 * nobody; one writer thread looks at the queue every 5 ms (or {@code fsyncIntervalMs} if shorter),
 * appends what it finds in batches and fsyncs at most every {@code fsyncIntervalMs}; one drainer thread
 * sends what is on disk to the {@link Sink} in order and moves a persisted checkpoint past what the
 * sink acknowledged (a partly delivered batch advances past its delivered prefix only), retrying
 * with back-off while the sink fails. A crash loses at most the records
 * not yet fsynced (at most {@code fsyncIntervalMs} plus 5 ms of events); a torn record at the end of the file
 * is detected by its CRC and cut off on restart. A record may be sent twice after a crash between
 * the sink's acknowledgement and the checkpoint: consumers deduplicate by event id.
 *
 * <p>When the disk refuses a write or an fsync (full, or failing), a record already accepted is not
 * dropped: the file is cut back to the end of the last whole record, the batch is kept and written
 * again with back-off, and until the disk takes writes again {@link #offer} takes records into memory
 * only up to a tenth of the queue (the events of requests already running, when the caller fails
 * closed and refuses new ones), then refuses them, so that the caller's policy decides, memory stays
 * bounded and the file stays readable. Once everything on disk is delivered the file starts afresh at once (normally only past
 * 64 MB), which is how a spool on a full disk frees its own space when Kafka is reachable.
 *
 * <p>Record format: {@code int length, int crc32c, payload} where the payload is either
 * {@code short keyLength, key, value} (the first format, still read) or, when the record carries a
 * trace context, {@code short -(keyLength + 1), key, byte traceparentLength, traceparent, value}.
 */
public final class Spool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    private static final String LOG_FILE = "spool.log";
    private static final String CHECKPOINT_FILE = "spool.checkpoint";
    private static final int HEADER_BYTES = 8;
    private static final int MAX_BATCH_RECORDS = 500;
    /** How long the writer sleeps when it found nothing to write; a record waits at most this long before it is written. */
    private static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** Where spooled records go (Kafka in production). */
    public interface Sink {
        /**
         * Delivers the records in order and returns how many, from the start of the batch, are
         * known delivered (all of them normally); the rest are sent again later. Throwing means none.
         */
        int send(List<Record> batch) throws Exception;
    }

    /** One spooled record: a Kafka key and value, and the W3C {@code traceparent} for its headers (or null). */
    public record Record(String key, byte[] value, String traceparent) {
        public Record(String key, byte[] value) {
            this(key, value, null);
        }
    }

    /**
     * @param maxQueuedRecords records waiting for the writer; beyond it {@link #offer} refuses
     * @param spoolMaxBytes    bytes on disk not yet delivered; beyond it {@link #offer} refuses
     * @param fsyncIntervalMs  longest time an appended record may wait for fsync
     */
    public record Options(int maxQueuedRecords, long spoolMaxBytes, long fsyncIntervalMs) {
        public static final Options DEFAULT = new Options(100_000, 1L << 30, 100);
    }

    private final Path directory;
    private final Options options;
    private final Sink sink;
    private final BlockingQueue<Record> queue;
    private final long gatherNanos;
    private final FileChannel log;
    private final FileChannel checkpoint;
    private final AtomicLong writtenBytes = new AtomicLong();
    private final AtomicLong durableBytes = new AtomicLong();
    private final AtomicLong deliveredBytes = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final Thread writer;
    private final Thread drainer;
    private volatile boolean closing;
    /** True from a failed write or fsync until a write and fsync succeed again. */
    private volatile boolean diskFailing;
    private final AtomicLong diskFailures = new AtomicLong();
    /** Writer thread only: whole records the last failed append still got onto the disk. */
    private int wroteBeforeFailure;
    private final Object drainSignal = new Object();
    /** Guards the three positions when the drainer moves them or the writer restarts the file. */
    private final Object positions = new Object();
    /** Once everything is delivered and the file is larger than this, it starts afresh. */
    private static final long COMPACT_AFTER_BYTES = 64L * 1024 * 1024;

    private Spool(Path directory, Options options, Sink sink) throws IOException {
        this.directory = directory;
        this.options = options;
        this.sink = sink;
        this.queue = new ArrayBlockingQueue<>(options.maxQueuedRecords());
        this.gatherNanos = Math.min(GATHER_NANOS, TimeUnit.MILLISECONDS.toNanos(options.fsyncIntervalMs()));
        Files.createDirectories(directory);
        this.log = FileChannel.open(directory.resolve(LOG_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        this.checkpoint = FileChannel.open(directory.resolve(CHECKPOINT_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        long delivered = readCheckpoint();
        writeCheckpoint(delivered); // its block is taken now, while there is room: later overwrites need no space
        long validEnd = recover(delivered);
        log.truncate(validEnd);
        log.position(validEnd);
        writtenBytes.set(validEnd);
        durableBytes.set(validEnd);
        deliveredBytes.set(delivered);
        if (validEnd > delivered) {
            LOG.info("spool: {} bytes from before the restart will be delivered", validEnd - delivered);
        }
        this.writer = new Thread(this::writeLoop, "usage-spool-writer");
        this.drainer = new Thread(this::drainLoop, "usage-spool-drainer");
        writer.setDaemon(true);
        drainer.setDaemon(true);
    }

    /** Opens (recovering what an earlier run left) and starts the spool in {@code directory}. */
    public static Spool open(Path directory, Options options, Sink sink) {
        try {
            Spool spool = new Spool(directory, options, sink);
            spool.writer.start();
            spool.drainer.start();
            return spool;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the usage spool in " + directory, e);
        }
    }

    /**
     * Queues a record without blocking. False when the queue or the spool is full: the caller then
     * decides between failing open (serve, count the loss) and failing closed (refuse the request).
     */
    public boolean offer(Record record) {
        if (closing || (diskFailing && queue.size() >= options.maxQueuedRecords() / 10)
                || writtenBytes.get() - deliveredBytes.get() >= options.spoolMaxBytes() || !queue.offer(record)) {
            refused.incrementAndGet();
            return false;
        }
        return true;
    }

    /** Bytes written but not yet delivered to the sink. */
    public long pendingBytes() {
        return writtenBytes.get() - deliveredBytes.get();
    }

    /** Records accepted by the sink since start. */
    public long deliveredRecords() {
        return delivered.get();
    }

    /** Records refused by {@link #offer} since start. */
    public long refusedRecords() {
        return refused.get();
    }

    /** True while the disk refuses the spool's writes or fsyncs (full or failing): {@link #offer} soon refuses. */
    public boolean diskFailing() {
        return diskFailing;
    }

    /** Writes and fsyncs the disk refused since start (each retry counts). */
    public long diskFailures() {
        return diskFailures.get();
    }

    private void writeLoop() {
        var batch = new ArrayList<Record>();
        long lastSync = System.nanoTime();
        long backoffMs = 0;
        while (!closing || !queue.isEmpty() || !batch.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    queue.drainTo(batch, MAX_BATCH_RECORDS);
                    if (batch.isEmpty()) {
                        // Polled, never woken per record: an offer that wakes a waiting writer hands it the caller's core
                        // on a busy machine, and the caller is the event loop (a quarter of its time at 1,000 streams).
                        LockSupport.parkNanos(gatherNanos);
                        if (Thread.interrupted()) {
                            throw new InterruptedException();
                        }
                    }
                } else if (closing && backoffMs >= 1_000) {
                    LOG.error("spool: the disk still refuses writes at shutdown; {} accepted events are lost", batch.size() + queue.size());
                    return;
                }
                if (!batch.isEmpty()) {
                    append(batch);
                }
                if (System.nanoTime() - lastSync >= options.fsyncIntervalMs() * 1_000_000 || closing || diskFailing) {
                    syncWritten();
                    lastSync = System.nanoTime();
                }
                if (diskFailing) {
                    diskFailing = false;
                    backoffMs = 0;
                    LOG.info("spool: the disk takes writes again; accepting events");
                }
                compactIfDelivered();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException e) {
                diskFailures.incrementAndGet();
                if (!diskFailing) {
                    diskFailing = true;
                    LOG.error("spool: the disk refused a write or fsync ({}); keeping {} events in memory and refusing new ones until it recovers",
                            e.toString(), batch.size());
                }
                // when part of the batch got onto the disk, try again soon: the drainer is about to free space
                backoffMs = wroteBeforeFailure > 0 ? 50 : Math.min(Math.max(backoffMs * 2, 50), 2_000);
                sleep(backoffMs);
                try {
                    cutBackToLastRecord();
                    syncWritten(); // the records of a partly written batch, so that they can be delivered and their space freed
                    compactIfDelivered();
                } catch (IOException again) {
                    diskFailures.incrementAndGet();
                }
            }
        }
    }

    /** Fsyncs what is written and lets the drainer deliver it. */
    private void syncWritten() throws IOException {
        long upTo = writtenBytes.get();
        if (upTo > durableBytes.get()) {
            log.force(false);
            durableBytes.set(upTo);
            signalDrainer();
        }
    }

    /** After a failed append the file may hold part of a batch: cut it off, so the batch can be written again whole. */
    private void cutBackToLastRecord() throws IOException {
        synchronized (positions) {
            long end = writtenBytes.get();
            if (log.size() > end) {
                log.truncate(end);
            }
            log.position(end);
        }
    }

    /**
     * Only the writer appends, so when it is idle and all is delivered the file can start afresh: past
     * 64 MB, or at once while the disk is failing (a full disk gets back the space the spool held).
     */
    private void compactIfDelivered() throws IOException {
        synchronized (positions) {
            long written = writtenBytes.get();
            if (((written >= COMPACT_AFTER_BYTES && queue.isEmpty()) || (diskFailing && written > 0))
                    && deliveredBytes.get() == written && durableBytes.get() == written) {
                // The checkpoint first: a crash in between re-delivers the file (consumers deduplicate), never skips a record.
                writeCheckpoint(0);
                checkpoint.force(false);
                log.truncate(0);
                log.position(0);
                log.force(true);
                writtenBytes.set(0);
                durableBytes.set(0);
                deliveredBytes.set(0);
            }
        }
    }

    /**
     * Appends the batch and removes it from the list. If the disk refuses part of it, the records
     * written whole stay written (and are removed), the rest stays in the list and the exception is
     * thrown: a batch larger than the space left still gets through, a part at a time.
     */
    private void append(List<Record> batch) throws IOException {
        wroteBeforeFailure = 0;
        int size = 0;
        var encoded = new ArrayList<byte[]>(batch.size());
        for (Record record : batch) {
            byte[] bytes = encode(record);
            encoded.add(bytes);
            size += bytes.length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        encoded.forEach(buffer::put);
        buffer.flip();
        try {
            while (buffer.hasRemaining()) {
                log.write(buffer);
            }
        } catch (IOException e) {
            int whole = 0;
            long wholeBytes = 0;
            while (whole < encoded.size() && wholeBytes + encoded.get(whole).length <= buffer.position()) {
                wholeBytes += encoded.get(whole++).length;
            }
            writtenBytes.addAndGet(wholeBytes);
            batch.subList(0, whole).clear();
            wroteBeforeFailure = whole;
            throw e;
        }
        writtenBytes.addAndGet(size);
        batch.clear();
    }

    private static byte[] encode(Record record) {
        byte[] key = record.key().getBytes(StandardCharsets.UTF_8);
        byte[] trace = record.traceparent() == null ? null : record.traceparent().getBytes(StandardCharsets.US_ASCII);
        if (key.length >= Short.MAX_VALUE || (trace != null && trace.length > 255)) {
            throw new IllegalArgumentException("spool key or traceparent too long");
        }
        ByteBuffer payload = ByteBuffer.allocate(2 + key.length + (trace == null ? 0 : 1 + trace.length) + record.value().length);
        if (trace == null) {
            payload.putShort((short) key.length).put(key);
        } else {
            payload.putShort((short) -(key.length + 1)).put(key).put((byte) trace.length).put(trace);
        }
        payload.put(record.value());
        var crc = new CRC32C();
        crc.update(payload.array());
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + payload.capacity());
        out.putInt(payload.capacity()).putInt((int) crc.getValue()).put(payload.array());
        return out.array();
    }

    private void drainLoop() {
        long backoffMs = 100;
        while (!closing || deliveredBytes.get() < durableBytes.get()) {
            try {
                long from;
                long to;
                synchronized (positions) {
                    from = deliveredBytes.get();
                    to = durableBytes.get();
                }
                if (from >= to) {
                    if (closing) {
                        return;
                    }
                    awaitSignal(options.fsyncIntervalMs());
                    continue;
                }
                List<Record> batch = new ArrayList<>();
                List<Long> ends = new ArrayList<>();
                read(from, to, batch, ends);
                int sent = Math.min(sink.send(batch), batch.size());
                if (sent > 0) {
                    long end = ends.get(sent - 1);
                    synchronized (positions) {
                        deliveredBytes.set(end);
                        writeCheckpoint(end);
                    }
                    delivered.addAndGet(sent);
                }
                if (sent < batch.size()) {
                    throw new IllegalStateException("the sink took " + sent + " of " + batch.size() + " records");
                }
                backoffMs = 100;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                if (closing) {
                    LOG.warn("spool closing with {} undelivered bytes; they are delivered on the next start", pendingBytes());
                    return;
                }
                LOG.warn("spool: delivery failed ({}); retrying in {} ms, {} bytes pending", e.toString(), backoffMs, pendingBytes());
                sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    /** Reads up to a batch of whole records in [from, to), with the file position after each. */
    private void read(long from, long to, List<Record> out, List<Long> ends) throws IOException {
        long position = from;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        while (position < to && out.size() < MAX_BATCH_RECORDS) {
            header.clear();
            log.read(header, position);
            header.flip();
            int length = header.getInt();
            header.getInt();
            ByteBuffer payload = ByteBuffer.allocate(length);
            log.read(payload, position + HEADER_BYTES);
            payload.flip();
            int keyLength = payload.getShort();
            boolean traced = keyLength < 0;
            byte[] key = new byte[traced ? -keyLength - 1 : keyLength];
            payload.get(key);
            String traceparent = null;
            if (traced) {
                byte[] trace = new byte[Byte.toUnsignedInt(payload.get())];
                payload.get(trace);
                traceparent = new String(trace, StandardCharsets.US_ASCII);
            }
            byte[] value = new byte[payload.remaining()];
            payload.get(value);
            out.add(new Record(new String(key, StandardCharsets.UTF_8), value, traceparent));
            position += HEADER_BYTES + length;
            ends.add(position);
        }
    }

    /** The end of the last whole, intact record at or after {@code from}; a torn tail is cut off. */
    private long recover(long from) throws IOException {
        long size = log.size();
        long position = from;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        while (position + HEADER_BYTES <= size) {
            header.clear();
            log.read(header, position);
            header.flip();
            int length = header.getInt();
            int crc = header.getInt();
            if (length < 2 || position + HEADER_BYTES + length > size) {
                break;
            }
            ByteBuffer payload = ByteBuffer.allocate(length);
            log.read(payload, position + HEADER_BYTES);
            var check = new CRC32C();
            check.update(payload.array());
            if ((int) check.getValue() != crc) {
                break;
            }
            position += HEADER_BYTES + length;
        }
        if (position < size) {
            LOG.warn("spool: cutting {} bytes of a torn record at the end of {}", size - position, LOG_FILE);
        }
        return position;
    }

    /**
     * The delivered position. One that cannot be read, or that lies beyond the end of the log, means
     * the log is delivered again from its start: a duplicate is harmless (consumers deduplicate), a
     * skipped record would be lost revenue.
     */
    private long readCheckpoint() throws IOException {
        ByteBuffer content = ByteBuffer.allocate((int) Math.min(checkpoint.size(), 64));
        checkpoint.read(content, 0);
        String text = new String(content.array(), 0, content.position(), StandardCharsets.US_ASCII).strip();
        if (text.isEmpty()) {
            return 0L;
        }
        try {
            long position = Long.parseLong(text);
            if (position >= 0 && position <= log.size()) {
                return position;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        LOG.warn("spool: unusable checkpoint '{}' for a log of {} bytes; delivering the log again from its start", text, log.size());
        return 0L;
    }

    /**
     * Overwrites the checkpoint in place, fixed width: unlike a new file and a rename, this needs no
     * free space, so a full disk cannot stop delivery (and with it the compaction that frees space).
     */
    private void writeCheckpoint(long position) throws IOException {
        ByteBuffer content = ByteBuffer.wrap(String.format("%019d\n", position).getBytes(StandardCharsets.US_ASCII));
        while (content.hasRemaining()) {
            checkpoint.write(content, content.position());
        }
    }

    private void signalDrainer() {
        synchronized (drainSignal) {
            drainSignal.notifyAll();
        }
    }

    private void awaitSignal(long timeoutMs) throws InterruptedException {
        synchronized (drainSignal) {
            drainSignal.wait(timeoutMs);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops accepting, writes and fsyncs what is queued, and tries for up to 10 s to deliver it. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(10_000);
            signalDrainer();
            drainer.join(10_000);
            log.close();
            checkpoint.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("closing the spool", e);
        }
    }
}
