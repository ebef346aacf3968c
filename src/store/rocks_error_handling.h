// How RocksStore survives write errors (disk full, a file-size limit, EIO, a read-only remount):
// the RocksDB options that keep the process alive and the database resumable. Internal to store/.
//
// What RocksDB does by itself, and why each piece here exists:
//  * After a failed write to the WAL, an SST or the MANIFEST, RocksDB records a "background
//    error" and refuses every further write (reads go on). ENOSPC is a "hard" error, which
//    DB::Resume() clears once the memtable can be flushed to a new file; any other I/O error
//    (EFBIG, EIO, EDQUOT, EROFS) is "fatal", which only closing and reopening the database
//    clears. Reopening would mean stopping every reader, so the listener files every fatal I/O
//    error as a hard one: Resume() then recovers the same way, by flushing the memtable and
//    starting a new WAL, so the torn end of the old WAL is never replayed.
//  * RocksDB would also retry on its own, but for ENOSPC only once 64 MiB (the write buffer) are
//    free, and meanwhile it answers DB::Resume() with Busy. The listener turns that off; the
//    store resumes before each write instead (RocksStore::Write), at the sync loop's pace.
//  * RocksDB's own info log is a file in the data directory. Debian builds RocksDB with
//    assertions, and its file logger aborts the process on the first message after a failed
//    write to that file, i.e. as soon as the disk is full. The logger here sends RocksDB's
//    warnings and errors to policyd's log (stderr / journald) instead, and writes no file.
//  * Two more RocksDB 7.8 defects are handled in RocksStore itself (rocks_store_write.cc):
//    Resume() only starts a new WAL if the memtable holds something (AnchorMemtable keeps it
//    non-empty), and a second memtable switch after a failed WAL creation asserts when the
//    memtable holds a range tombstone (Resume and Flush run only once a probe file can be
//    written: ProbeWritable).
//
// Threads: RocksDB calls both from its own threads; both are stateless and thread-safe.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/listener.h>

#include <memory>

namespace policyd {

// A rocksdb::Logger that forwards messages at WARN and above to spdlog's default logger.
std::shared_ptr<rocksdb::Logger> MakeRocksLogger();

// A listener that turns fatal I/O background errors into hard (resumable) ones, logs each
// background error once, and disables RocksDB's automatic recovery.
std::shared_ptr<rocksdb::EventListener> MakeWriteErrorListener();

}  // namespace policyd
