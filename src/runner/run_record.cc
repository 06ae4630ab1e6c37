#include "runner/run_record.h"

#include <algorithm>
#include <fstream>

#include "runner/slurm.h"
#include "util/fs.h"
#include "util/strings.h"

namespace qb::runner {

namespace stdfs = std::filesystem;

nlohmann::json RunRecord::to_json() const {
  const auto& r = run;
  return {{"format", kRunRecordFormat},
          {"run",
           {{"invocation", r.invocation}, {"key", r.key}, {"kind", r.kind}, {"name", r.name}, {"status", r.status},
            {"started", r.started}, {"ended", r.ended}, {"duration_s", r.duration_s}, {"host", r.host},
            {"gpu", r.gpu}, {"pid", r.pid}, {"log", r.log}, {"message", r.message}, {"job_id", r.job_id},
            {"job_state", r.job_state}}},
          {"quarantined", quarantined}};
}

Result<RunRecord> RunRecord::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || j.value("format", 0) != kRunRecordFormat || !j.contains("run") || !j["run"].is_object())
    return corrupt(where + ": not a qbuild run record (format " + std::to_string(kRunRecordFormat) + ")");
  RunRecord rec;
  try {
    const auto& r = j["run"];
    auto& o = rec.run;
    o.invocation = r.at("invocation").get<std::string>();
    o.key = r.at("key").get<std::string>();
    o.kind = r.at("kind").get<std::string>();
    o.name = r.at("name").get<std::string>();
    o.status = r.at("status").get<std::string>();
    o.started = r.at("started").get<double>();
    o.ended = r.at("ended").get<double>();
    o.duration_s = r.at("duration_s").get<double>();
    o.host = r.at("host").get<std::string>();
    o.gpu = r.at("gpu").get<std::string>();
    o.pid = r.at("pid").get<std::int64_t>();
    o.log = r.at("log").get<std::string>();
    o.message = r.at("message").get<std::string>();
    o.job_id = r.at("job_id").get<std::string>();
    o.job_state = r.at("job_state").get<std::string>();
    rec.quarantined = j.at("quarantined").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return corrupt(where + ": malformed run record: " + e.what());
  }
  return rec;
}

stdfs::path run_record_path(const store::Layout& layout, const std::string& key, const std::string& job_id) {
  return layout.runs() / (key + "." + job_id + ".json");
}

Status write_run_record(const stdfs::path& path, const RunRecord& rec) {
  QB_TRY(fs::make_dirs(path.parent_path()));
  return fs::write_file_atomic(path, rec.to_json().dump(2) + "\n");
}

Result<RunRecord> read_run_record(const stdfs::path& path) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return corrupt("'" + path.string() + "' is not valid JSON");
  return RunRecord::from_json(j, "'" + path.string() + "'");
}

std::vector<std::pair<stdfs::path, Result<RunRecord>>> list_run_records(const store::Layout& layout) {
  std::vector<stdfs::path> paths;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(layout.runs(), ec)) {
    const std::string name = e.path().filename().string();
    // Our files end in .json; atomic writes leave ".<name>.tmp-*" siblings only while writing.
    if (e.is_regular_file() && ends_with(name, ".json") && name[0] != '.') paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::pair<stdfs::path, Result<RunRecord>>> out;
  for (auto& p : paths) out.emplace_back(p, read_run_record(p));
  return out;
}

namespace {

void append_to_log(const store::Layout& layout, const std::string& log, const std::string& line) {
  if (log.empty()) return;
  std::ofstream out(layout.root() / log, std::ios::app);
  out << "[" << timestamp_iso_utc() << "] [qbuild] " << line << "\n";
}

}  // namespace

Result<int> ingest_run_records(Project& project) {
  const auto& L = project.layout();
  int ingested = 0;
  auto records = list_run_records(L);
  // In the order the runs started, as the index lists the runs of local steps.
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.second.is_ok() && b.second.is_ok() && a.second->run.started < b.second->run.started;
  });
  for (auto& [path, rec] : records) {
    std::error_code ec;
    if (!rec.is_ok()) {
      stdfs::rename(path, path.string() + ".bad", ec);
      project.warn(rec.status().message() + "; moved it aside (.bad)");
      continue;
    }
    store::RunRow run = rec->run;
    if (run.status == "running") {
      // The step has not written its end: still running, or killed without a word.
      if (run.job_id.empty() || !slurm_available()) continue;
      auto job = query_job(run.job_id);
      if (!job.is_ok() || (*job && (*job)->active())) continue;
      run.status = "failed";
      run.ended = unix_time_now();
      run.duration_s = run.ended - run.started;
      run.job_state = *job ? (*job)->state : "UNKNOWN";
      run.message = *job ? (*job)->describe() + "; the step ended without recording why"
                         : "Slurm job " + run.job_id + " is gone (Slurm no longer knows it) and the step never recorded its end";
      append_to_log(L, run.log, run.message);
    }
    for (const auto& k : rec->quarantined) QB_TRY(project.index().remove_artifact(k));
    if (run.status == "ok" || run.status == "hit") {
      if (auto m = project.store().read_manifest(run.key); m.is_ok()) QB_TRY(project.index().upsert_artifact(*m));
    }
    QB_TRY(project.index().add_run(run).status());
    stdfs::remove(path, ec);
    ++ingested;
  }
  return ingested;
}

}  // namespace qb::runner
