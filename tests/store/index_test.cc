// Unit tests for src/store/index.h: schema creation, corruption, the file-hash memo, artifact
// rows, runs, rebuilding from the object store (atomically, also under SIGKILL), and faults
// that are not corruption (a full disk).
#include "store/index.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "store/sqlite_db.h"
#include "store_test_util.h"

namespace qb::store {
namespace {

using namespace testing_util;
using nlohmann::json;

class IndexTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    stdfs::create_directories(layout().cache());
    auto idx = Index::open(layout().index_db());
    ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
    index_ = std::make_unique<Index>(std::move(*idx));
  }
  static Manifest manifest(const std::string& key, const std::string& identity, double created_unix,
                           const std::string& kind = "quant") {
    Manifest m;
    m.key = key;
    m.kind = kind;
    m.name = "n-" + key.substr(0, 1);
    m.identity = identity;
    m.created_unix = created_unix;
    m.params = {{"bits", 4}};
    m.inputs = {{"model", key_of('0')}};
    m.meta = {{"code_version", 2}};
    return m;
  }
  std::vector<std::string> query_column(const std::string& sql) {
    auto db = Db::open(layout().index_db());
    EXPECT_TRUE(db.is_ok());
    auto st = db->prepare(sql);
    EXPECT_TRUE(st.is_ok()) << st.status().to_string();
    std::vector<std::string> out;
    while (st.is_ok() && st->step().value_or(false)) out.push_back(st->text(0));
    return out;
  }
  std::unique_ptr<Index> index_;
};

TEST_F(IndexTest, OpenCreatesSchema) {
  EXPECT_TRUE(stdfs::is_regular_file(layout().index_db()));
  EXPECT_EQ(query_column("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"),
            (std::vector<std::string>{"artifacts", "file_hashes", "runs"}));
  EXPECT_EQ(query_column("PRAGMA user_version"), std::vector<std::string>{std::to_string(kSchemaVersion)});
  EXPECT_EQ(query_column("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST_F(IndexTest, ReopenKeepsRows) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "quant:x", 1)).is_ok());
  index_.reset();
  auto idx = Index::open(layout().index_db());
  ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
  auto keys = idx->artifact_keys();
  ASSERT_TRUE(keys.is_ok());
  EXPECT_EQ(*keys, std::vector<std::string>{key_of('a')});
}

TEST_F(IndexTest, GarbageFileIsCorrupt) {
  index_.reset();
  stdfs::path p = root_.path() / "garbage.sqlite";
  write_text(p, std::string(8192, 'G'));
  auto idx = Index::open(p);
  ASSERT_FALSE(idx.is_ok());
  EXPECT_EQ(idx.status().code(), Code::kCorrupt);
  EXPECT_EQ(idx.status().message(), "index '" + p.string() + "': prepare: file is not a database");
}

TEST_F(IndexTest, NewerSchemaIsCorrupt) {
  index_.reset();
  {
    auto db = Db::open(layout().index_db());
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version=7").is_ok());
  }
  auto idx = Index::open(layout().index_db());
  ASSERT_FALSE(idx.is_ok());
  EXPECT_EQ(idx.status().code(), Code::kCorrupt);
  EXPECT_EQ(idx.status().message(),
            "index '" + layout().index_db().string() + "' has schema 7, newer than this qbuild's " +
                std::to_string(kSchemaVersion));
}

// An index written before runs recorded their Slurm job (schema 1): a writer upgrades it in
// place, keeping its rows; a reader reads it as it is.
TEST_F(IndexTest, SchemaOneIsUpgradedInPlaceAndReadAsIsByAReader) {
  index_.reset();
  stdfs::remove(layout().index_db());
  {
    auto db = Db::open(layout().index_db());
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE(db->exec("CREATE TABLE file_hashes(path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER, "
                         "mtime_ns INTEGER, ctime_ns INTEGER, hash TEXT NOT NULL);"
                         "CREATE TABLE artifacts(key TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, identity TEXT, "
                         "created_unix REAL, params TEXT, inputs TEXT, meta TEXT);"
                         "CREATE TABLE runs(id INTEGER PRIMARY KEY AUTOINCREMENT, invocation TEXT, key TEXT, kind TEXT, "
                         "name TEXT, status TEXT, started REAL, ended REAL, duration_s REAL, host TEXT, gpu TEXT, "
                         "pid INTEGER, log TEXT, message TEXT);"
                         "INSERT INTO runs(invocation, key, kind, status) VALUES('old', 'k1', 'quant', 'ok');"
                         "PRAGMA user_version=1;")
                    .is_ok());
  }
  {
    auto ro = Index::open(layout().index_db(), IndexAccess::kReadOnly);
    ASSERT_TRUE(ro.is_ok()) << ro.status().to_string();
    auto runs = ro->runs("");
    ASSERT_TRUE(runs.is_ok()) << runs.status().to_string();
    ASSERT_EQ(runs->size(), 1u);
    EXPECT_EQ((*runs)[0].job_id, "");
  }
  EXPECT_EQ(query_column("PRAGMA user_version"), std::vector<std::string>{"1"});  // the reader changed nothing
  auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
  ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
  RunRow r;
  r.invocation = "new";
  r.key = "k2";
  r.status = "ok";
  r.job_id = "17";
  r.job_state = "COMPLETED";
  ASSERT_TRUE(idx->add_run(r).is_ok());
  auto runs = idx->runs("");
  ASSERT_TRUE(runs.is_ok()) << runs.status().to_string();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].invocation, "old");
  EXPECT_EQ((*runs)[1].job_id, "17");
  EXPECT_EQ((*runs)[1].job_state, "COMPLETED");
  EXPECT_EQ(query_column("PRAGMA user_version"), std::vector<std::string>{std::to_string(kSchemaVersion)});
}

TEST_F(IndexTest, LastRunsGivesTheLatestRunOfEachKey) {
  for (auto [key, status] : {std::pair{"a", "failed"}, {"b", "ok"}, {"a", "ok"}}) {
    RunRow r;
    r.key = key;
    r.status = status;
    ASSERT_TRUE(index_->add_run(r).is_ok());
  }
  auto last = index_->last_runs();
  ASSERT_TRUE(last.is_ok()) << last.status().to_string();
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ(last->at("a").status, "ok");
  EXPECT_EQ(last->at("b").status, "ok");
}

TEST_F(IndexTest, FileHashEqualsHashFile) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, "content");
  auto d = index_->file_hash(f);
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(*d, *hash_file(f));
}

TEST_F(IndexTest, FileHashSameFileTwiceIsOneMissThenOneHit) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, "content");
  ASSERT_TRUE(index_->file_hash(f).is_ok());
  EXPECT_EQ(index_->memo_misses(), 1);
  EXPECT_EQ(index_->memo_hits(), 0);
  ASSERT_TRUE(index_->file_hash(f).is_ok());
  EXPECT_EQ(index_->memo_misses(), 1);
  EXPECT_EQ(index_->memo_hits(), 1);
}

TEST_F(IndexTest, FileHashMemoIsKeyedByNormalizedAbsolutePath) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, "content");
  ASSERT_TRUE(index_->file_hash(f).is_ok());
  ASSERT_TRUE(index_->file_hash(root_.path() / "." / "sub" / ".." / "src.txt").is_ok());
  EXPECT_EQ(index_->memo_hits(), 1);
}

TEST_F(IndexTest, FileHashMissesAfterMtimeChanges) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, "content");
  ASSERT_TRUE(index_->file_hash(f).is_ok());
  stdfs::last_write_time(f, stdfs::last_write_time(f) + std::chrono::seconds(5));
  ASSERT_TRUE(index_->file_hash(f).is_ok());
  EXPECT_EQ(index_->memo_misses(), 2);
  EXPECT_EQ(index_->memo_hits(), 0);
}

TEST_F(IndexTest, FileHashSeesNewContent) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, "old");
  auto a = index_->file_hash(f);
  write_text(f, "new content");
  auto b = index_->file_hash(f);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(*b, *hash_file(f));
}

TEST_F(IndexTest, FileHashMemoSurvivesReopen) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, "content");
  ASSERT_TRUE(index_->file_hash(f).is_ok());
  index_.reset();
  auto idx = Index::open(layout().index_db());
  ASSERT_TRUE(idx.is_ok());
  ASSERT_TRUE(idx->file_hash(f).is_ok());
  EXPECT_EQ(idx->memo_hits(), 1);
  EXPECT_EQ(idx->memo_misses(), 0);
}

TEST_F(IndexTest, FileHashOfMissingFileIsIoError) {
  stdfs::path f = root_.path() / "nope.txt";
  auto d = index_->file_hash(f);
  ASSERT_FALSE(d.is_ok());
  EXPECT_EQ(d.status().code(), Code::kIo);
  EXPECT_EQ(d.status().message(), "stat '" + f.string() + "': No such file or directory");
}

TEST_F(IndexTest, ArtifactRoundTripsManifestFields) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "quant:t/q", 12.5)).is_ok());
  auto row = index_->artifact(key_of('a'));
  ASSERT_TRUE(row.is_ok());
  ASSERT_TRUE(row->has_value());
  const ArtifactRow& a = **row;
  EXPECT_EQ(a.key, key_of('a'));
  EXPECT_EQ(a.kind, "quant");
  EXPECT_EQ(a.name, "n-a");
  EXPECT_EQ(a.identity, "quant:t/q");
  EXPECT_EQ(a.created_unix, 12.5);
  EXPECT_EQ(a.params, json({{"bits", 4}}));
  EXPECT_EQ(a.inputs, json({{"model", key_of('0')}}));
  EXPECT_EQ(a.meta, json({{"code_version", 2}}));
}

TEST_F(IndexTest, ArtifactOfUnknownKeyIsNullopt) {
  auto row = index_->artifact(key_of('z'));
  ASSERT_TRUE(row.is_ok());
  EXPECT_FALSE(row->has_value());
}

TEST_F(IndexTest, UpsertReplacesRowOfSameKey) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "quant:old", 1)).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "quant:new", 2)).is_ok());
  auto row = index_->artifact(key_of('a'));
  ASSERT_TRUE(row.is_ok() && row->has_value());
  EXPECT_EQ((*row)->identity, "quant:new");
  EXPECT_EQ(*index_->artifact_keys(), std::vector<std::string>{key_of('a')});
}

TEST_F(IndexTest, LastBuiltIsNewestOfIdentity) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "quant:t/q", 10)).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('b'), "quant:t/q", 30)).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('c'), "quant:t/q", 20)).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('d'), "quant:other", 99)).is_ok());
  auto last = index_->last_built("quant:t/q");
  ASSERT_TRUE(last.is_ok() && last->has_value());
  EXPECT_EQ((*last)->key, key_of('b'));
}

TEST_F(IndexTest, LastBuiltOfUnknownIdentityIsNullopt) {
  auto last = index_->last_built("quant:none");
  ASSERT_TRUE(last.is_ok());
  EXPECT_FALSE(last->has_value());
}

TEST_F(IndexTest, ArtifactsOfKindAreOrderedByCreation) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "eval:1", 3, "eval")).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('b'), "eval:2", 1, "eval")).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('c'), "quant:1", 2, "quant")).is_ok());
  auto rows = index_->artifacts_of_kind("eval");
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].key, key_of('b'));
  EXPECT_EQ((*rows)[1].key, key_of('a'));
}

TEST_F(IndexTest, ArtifactKeysAreSorted) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('c'), "x", 1)).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "y", 2)).is_ok());
  EXPECT_EQ(*index_->artifact_keys(), (std::vector<std::string>{key_of('a'), key_of('c')}));
}

TEST_F(IndexTest, RemoveArtifactDeletesRow) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "x", 1)).is_ok());
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('b'), "x", 2)).is_ok());
  ASSERT_TRUE(index_->remove_artifact(key_of('b')).is_ok());
  EXPECT_FALSE(index_->artifact(key_of('b'))->has_value());
  EXPECT_EQ((*index_->last_built("x"))->key, key_of('a'));
}

RunRow run(const std::string& inv, const std::string& key, double started) {
  RunRow r;
  r.invocation = inv;
  r.key = key;
  r.kind = "quant";
  r.name = "v";
  r.status = "running";
  r.started = started;
  r.host = "h";
  r.gpu = "0";
  r.pid = 42;
  r.log = "logs/" + inv + "/v_quant.log";
  return r;
}

TEST_F(IndexTest, LastInvocationOfEmptyIndexIsEmpty) {
  auto inv = index_->last_invocation();
  ASSERT_TRUE(inv.is_ok());
  EXPECT_EQ(*inv, "");
}

TEST_F(IndexTest, BeginRunReturnsIncreasingIds) {
  auto a = index_->begin_run(run("i1", key_of('a'), 100));
  auto b = index_->begin_run(run("i1", key_of('b'), 101));
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_LT(*a, *b);
}

TEST_F(IndexTest, EndRunRecordsStatusDurationAndMessage) {
  auto id = index_->begin_run(run("i1", key_of('a'), 100));
  ASSERT_TRUE(id.is_ok());
  ASSERT_TRUE(index_->end_run(*id, "failed", 2.5, "boom").is_ok());
  auto rows = index_->runs("i1");
  ASSERT_TRUE(rows.is_ok());
  ASSERT_EQ(rows->size(), 1u);
  const RunRow& r = (*rows)[0];
  EXPECT_EQ(r.id, *id);
  EXPECT_EQ(r.invocation, "i1");
  EXPECT_EQ(r.key, key_of('a'));
  EXPECT_EQ(r.kind, "quant");
  EXPECT_EQ(r.name, "v");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.started, 100);
  EXPECT_EQ(r.ended, 102.5);
  EXPECT_EQ(r.duration_s, 2.5);
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.gpu, "0");
  EXPECT_EQ(r.pid, 42);
  EXPECT_EQ(r.log, "logs/i1/v_quant.log");
  EXPECT_EQ(r.message, "boom");
}

TEST_F(IndexTest, RunsFiltersByInvocationInIdOrder) {
  ASSERT_TRUE(index_->begin_run(run("i1", key_of('a'), 1)).is_ok());
  ASSERT_TRUE(index_->begin_run(run("i2", key_of('b'), 2)).is_ok());
  ASSERT_TRUE(index_->begin_run(run("i1", key_of('c'), 3)).is_ok());
  auto i1 = index_->runs("i1");
  ASSERT_TRUE(i1.is_ok());
  ASSERT_EQ(i1->size(), 2u);
  EXPECT_EQ((*i1)[0].key, key_of('a'));
  EXPECT_EQ((*i1)[1].key, key_of('c'));
  auto all = index_->runs("");
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].invocation, "i2");
}

TEST_F(IndexTest, LastInvocationIsTheLatestBegun) {
  ASSERT_TRUE(index_->begin_run(run("20260101_000000", key_of('a'), 1)).is_ok());
  ASSERT_TRUE(index_->begin_run(run("20250101_000000", key_of('b'), 2)).is_ok());
  EXPECT_EQ(*index_->last_invocation(), "20250101_000000");
}

TEST_F(IndexTest, RebuildFromStoreRestoresArtifactsAndSkipsDirsWithoutManifest) {
  ObjectStore store(layout());
  for (char c : {'a', 'b'}) {
    auto dir = store.begin(key_of(c));
    ASSERT_TRUE(dir.is_ok());
    write_text(dir->path() / "f", std::string(1, c));
    ASSERT_TRUE(store.commit(std::move(*dir), manifest(key_of(c), std::string("quant:") + c, c == 'a' ? 5 : 6)).is_ok());
  }
  write_text(layout().object_dir(key_of('c')) / "f", "no manifest here");
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('d'), "quant:stale", 1)).is_ok());

  ASSERT_TRUE(index_->rebuild_from(store).is_ok());
  EXPECT_EQ(*index_->artifact_keys(), (std::vector<std::string>{key_of('a'), key_of('b')}));
  auto b = index_->artifact(key_of('b'));
  ASSERT_TRUE(b.is_ok() && b->has_value());
  EXPECT_EQ((*b)->identity, "quant:b");
  EXPECT_EQ((*b)->created_unix, 6);
  EXPECT_EQ((*b)->meta, json({{"code_version", 2}}));
}

TEST_F(IndexTest, RebuildFromEmptyStoreEmptiesArtifacts) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('d'), "quant:stale", 1)).is_ok());
  ASSERT_TRUE(index_->rebuild_from(ObjectStore(layout())).is_ok());
  EXPECT_EQ(*index_->artifact_keys(), std::vector<std::string>{});
}

// Issue 15 finding 1: a 0-byte index.sqlite was opened as a valid, empty index.
TEST_F(IndexTest, ZeroByteFileIsNotAnIndex) {
  index_.reset();
  stdfs::remove(layout().index_db().string() + "-wal");
  stdfs::remove(layout().index_db().string() + "-shm");
  write_text(layout().index_db(), "");
  auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
  ASSERT_FALSE(idx.is_ok());
  EXPECT_EQ(idx.status().code(), Code::kCorrupt);
  EXPECT_EQ(idx.status().message(), "index '" + layout().index_db().string() + "' is not a qbuild index (empty)");
}

TEST_F(IndexTest, ForeignDatabaseIsNotAnIndex) {
  stdfs::path p = root_.path() / "foreign.sqlite";
  {
    auto db = Db::open(p);
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE(db->exec("CREATE TABLE t(x)").is_ok());
  }
  auto idx = Index::open(p, IndexAccess::kReadWrite);
  ASSERT_FALSE(idx.is_ok());
  EXPECT_EQ(idx.status().code(), Code::kCorrupt);
  EXPECT_EQ(idx.status().message(), "index '" + p.string() + "' is not a qbuild index (no qbuild schema)");
}

TEST_F(IndexTest, OpenWithoutCreateOfAMissingFileIsNotFoundAndCreatesNothing) {
  stdfs::path p = root_.path() / "none.sqlite";
  auto idx = Index::open(p, IndexAccess::kReadWrite);
  ASSERT_FALSE(idx.is_ok());
  EXPECT_EQ(idx.status().code(), Code::kNotFound);
  EXPECT_FALSE(stdfs::exists(p));
}

// Runs `f` in a child process whose files may not grow past `limit` bytes (RLIMIT_FSIZE, with
// SIGXFSZ ignored so writes fail with EFBIG): a full disk, as far as SQLite can tell. Returns
// the child's exit status.
template <typename F>
int with_file_size_limit(rlim_t limit, F f) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl {limit, limit};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    ::_exit(f());
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

// Issue 15 finding 2: a full disk made the index "unusable" and it was moved aside.
TEST_F(IndexTest, AFullDiskIsAnIoErrorNotCorruption) {
  ASSERT_TRUE(index_->upsert_artifact(manifest(key_of('a'), "quant:x", 1)).is_ok());
  index_.reset();  // closes: the WAL is checkpointed and removed, so the next open must create it
  int rc = with_file_size_limit(0, [&] {
    auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
    if (idx.is_ok()) return 10;                                  // (no write needed: fine too, but we want the error)
    if (idx.status().code() == Code::kCorrupt) return 11;
    if (idx.status().code() != Code::kIo) return 12;
    return idx.status().message().find("File too large") != std::string::npos ? 0 : 13;
  });
  EXPECT_EQ(rc, 0);
  auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
  ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
  EXPECT_EQ(*idx->artifact_keys(), std::vector<std::string>{key_of('a')});
}

TEST_F(IndexTest, TheFileHashMemoFailingToWriteDoesNotFailTheHash) {
  stdfs::path f = root_.path() / "src.txt";
  write_text(f, std::string(100000, 'x'));
  index_.reset();
  // In the child (an SQLite connection must not cross a fork): open and read the index, then
  // forbid every file to grow, so that the memo's INSERT (a WAL append) fails.
  pid_t pid = ::fork();
  if (pid == 0) {
    auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
    if (!idx.is_ok() || !idx->artifact_keys().is_ok()) ::_exit(2);
    std::error_code ec;
    auto wal = stdfs::file_size(layout().index_db().string() + "-wal", ec);
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl {static_cast<rlim_t>(ec ? 0 : wal), static_cast<rlim_t>(ec ? 0 : wal)};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    auto d = idx->file_hash(f);
    if (!d.is_ok()) std::fprintf(stderr, "%s\n", d.status().to_string().c_str());
    ::_exit(d.is_ok() && *d == *hash_file(f) && idx->memo_misses() == 1 ? 0 : 1);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
  ASSERT_TRUE(idx.is_ok());
  ASSERT_TRUE(idx->file_hash(f).is_ok());
  EXPECT_EQ(idx->memo_misses(), 1);  // the child's memo row was never written
}

ObjectStore store_with(const Layout& l, int n) {
  ObjectStore store(l);
  for (int i = 0; i < n; ++i) {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%032x", i + 1);
    Manifest m;
    m.key = buf;
    m.kind = "quant";
    m.name = "v" + std::to_string(i);
    m.identity = "quant:" + std::to_string(i);
    m.created_unix = 1 + i;
    write_text(l.manifest(m.key), m.to_json().dump());
  }
  return store;
}

TEST_F(IndexTest, MissingArtifactsListsObjectsWithoutARowAndAddBringsThemBack) {
  ObjectStore store = store_with(layout(), 3);
  write_text(layout().object_dir(key_of('e')) / "f", "no manifest: not an artifact");
  ASSERT_TRUE(index_->add_from_manifests(store, {store.list_keys()[1]}).is_ok());
  auto missing = index_->missing_artifacts(store);
  ASSERT_TRUE(missing.is_ok());
  auto keys = store.list_keys();
  EXPECT_EQ(*missing, (std::vector<std::string>{keys[0], keys[2]}));
  auto added = index_->add_from_manifests(store, *missing);
  ASSERT_TRUE(added.is_ok());
  EXPECT_EQ(*added, 2);
  EXPECT_EQ(index_->missing_artifacts(store)->size(), 0u);
  EXPECT_EQ((*index_->artifact(keys[2]))->identity, "quant:2");
}

TEST_F(IndexTest, RebuildReplacesTheFileWithACompleteIndex) {
  ObjectStore store = store_with(layout(), 5);
  index_.reset();
  write_text(layout().index_db().string() + "-wal", "a WAL left by an index that was deleted");
  ASSERT_TRUE(Index::rebuild(layout().index_db(), store).is_ok());
  EXPECT_FALSE(stdfs::exists(layout().index_db().string() + "-wal"));
  auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
  ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
  EXPECT_EQ(idx->artifact_keys()->size(), 5u);
  for (const auto& e : entries(layout().cache())) EXPECT_EQ(e.find(".new-"), std::string::npos) << e;
}

// Issue 15 finding 1: a rebuild killed half-way left an index without artifact rows, trusted.
// However the rebuild is killed, the file is absent or complete.
TEST_F(IndexTest, ARebuildKilledAtAnyMomentLeavesNoIndexOrACompleteOne) {
  constexpr int kObjects = 400;
  ObjectStore store = store_with(layout(), kObjects);
  index_.reset();
  for (const char* sfx : {"", "-wal", "-shm"}) stdfs::remove(layout().index_db().string() + sfx);
  // One rebuild's duration, to spread the kills over it.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Index::rebuild(root_.path() / "probe.sqlite", store).is_ok());
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  int complete = 0, absent = 0;
  for (int i = 0; i < 12; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(Index::rebuild(layout().index_db(), store).is_ok() ? 0 : 1);
    std::this_thread::sleep_for(std::chrono::microseconds(us * i / 10));
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (!stdfs::exists(layout().index_db())) {
      ++absent;
      continue;
    }
    auto idx = Index::open(layout().index_db(), IndexAccess::kReadWrite);
    ASSERT_TRUE(idx.is_ok()) << "kill " << i << ": " << idx.status().to_string();
    EXPECT_EQ(idx->artifact_keys()->size(), static_cast<size_t>(kObjects)) << "kill " << i;
    ++complete;
    idx = Status(Code::kInternal, "closed");
    for (const char* sfx : {"", "-wal", "-shm"}) stdfs::remove(layout().index_db().string() + sfx);
  }
  EXPECT_EQ(complete + absent, 12);
}

TEST(StatFileTest, ReportsSizeAndChangesWithMtime) {
  auto t = fs::TempDir::create(stdfs::temp_directory_path(), "qb_stat_test.");
  ASSERT_TRUE(t.is_ok());
  stdfs::path f = t->path() / "f";
  write_text(f, "12345");
  auto a = stat_file(f);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->size, 5u);
  stdfs::last_write_time(f, stdfs::last_write_time(f) - std::chrono::seconds(60));
  auto b = stat_file(f);
  ASSERT_TRUE(b.is_ok());
  EXPECT_NE(a->mtime_ns, b->mtime_ns);
  EXPECT_FALSE(*a == *b);
}

}  // namespace
}  // namespace qb::store
