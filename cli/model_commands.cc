// nbaprops train | predict | evaluate.
#include <cmath>
#include <filesystem>
#include <map>

#include "base/file.h"
#include "base/stats.h"
#include "base/svg_chart.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "engine/ledger.h"
#include "pipeline/evaluation.h"
#include "pipeline/export.h"
#include "pipeline/grading.h"
#include "pipeline/model.h"
#include "pipeline/partition.h"
#include "pipeline/pipeline.h"
#include "pipeline/predictions.h"

namespace nbaprops::cli {
namespace {

// Runs phases 3 and 4 for every game date in [from, to] whose feature rows are not in place
// (right after an import nothing is), oldest first. Returns an exit code.
int EnsureFeatures(Env& env, const std::string& from, const std::string& to, bool quiet) {
  auto dates = pipeline::GameDates(*env.store);
  if (!dates.ok()) return Fail(kExitStore, dates.status().message());
  std::vector<std::string> window;
  for (const std::string& d : *dates) {
    if (d >= from && d <= to) window.push_back(d);
  }
  std::vector<std::string> missing;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(missing, engine::Ledger::NotSucceeded(t, "ml_feature_store", window));
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  if (missing.empty()) return kExitOk;
  Progress progress("phases 3-4", quiet);
  int done = 0;
  for (const std::string& d : missing) {
    for (int phase : {3, 4}) {
      auto res = pipeline::RunDate(*env.runner, d, phase, "manual");
      if (!res.ok()) {
        for (auto& [name, o] : res.outcomes) {
          if (!o.status.ok()) return Fail(kExitFailed, name + " for " + d + ": " + o.status.message());
        }
      }
    }
    progress.Update(++done, static_cast<int>(missing.size()), d);
  }
  return kExitOk;
}

// The report as a table: one line per group, then the total.
std::string RenderReport(const pipeline::Report& rep) {
  Table t({rep.by, "n", "picks", "W", "L", "P", "void", "hit rate [95% CI]", "ROI", "MAE model", "MAE line", "CLV"});
  auto add = [&](const pipeline::ReportRow& x) {
    auto f = [](const char* fmt, double v) {
      if (std::isnan(v)) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, fmt, v);
      return std::string(buf);
    };
    std::string hit = std::isnan(x.hit_rate) ? "-"
                                             : f("%.1f%%", 100 * x.hit_rate) + " [" + f("%.1f", 100 * x.ci_lo) +
                                                   ", " + f("%.1f", 100 * x.ci_hi) + "]";
    t.Add({x.group, std::to_string(x.n), std::to_string(x.picks), std::to_string(x.wins), std::to_string(x.losses),
           std::to_string(x.pushes), std::to_string(x.voids), hit, f("%+.1f%%", 100 * x.roi), f("%.2f", x.mae_model),
           f("%.2f", x.mae_line), f("%+.2f", x.clv_avg)});
  };
  for (const auto& x : rep.groups) add(x);
  add(rep.total);
  return t.Render();
}

// The first date models learn from: --train-from, or the first day of `date`'s season.
std::string TrainingStart(const std::string& train_from, const std::string& date) {
  return train_from.empty() ? FormatIsoDate(pipeline::SeasonStart(*ParseIsoDate(date))) : train_from;
}

}  // namespace

int CmdTrain(const GlobalOptions& g, const std::string& until, const std::string& train_from,
             const std::string& out_in, bool minutes_feature) {
  if (auto bad = CheckDate(until, "--until")) return Fail(kExitUsage, *bad);
  if (!train_from.empty()) {
    if (auto bad = CheckDate(train_from, "--train-from")) return Fail(kExitUsage, *bad);
    if (train_from >= until) return Fail(kExitUsage, "--train-from " + train_from + " must be before --until " + until);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  const std::string season = TrainingStart(train_from, until);
  const std::string before = FormatIsoDate(*ParseIsoDate(until) - 1);
  if (int rc = EnsureFeatures(env, season, before, g.quiet)) return rc;
  pipeline::TrainingSet data;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(data, pipeline::LoadTrainingSet(t, season, until));
    return OkStatus();
  });
  if (!st.ok()) return Fail(kExitFailed, st.message());
  auto t0 = std::chrono::steady_clock::now();
  pipeline::TrainOptions options;
  options.minutes_feature = minutes_feature;
  auto model = pipeline::Model::Train(data, options, until);
  if (!model.ok()) return Fail(kExitFailed, model.status().message());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string out = out_in.empty() ? "models/points-" + until + ".json" : out_in;
  std::error_code ec;
  if (auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) std::filesystem::create_directories(dir, ec);
  if (Status s = (*model)->Save(out); !s.ok()) return Fail(kExitFailed, "writing " + out + ": " + s.message());
  if (g.json) {
    std::printf("{\"model\":\"%s\",\"path\":\"%s\",\"metrics\":%s}\n", (*model)->version().c_str(), out.c_str(),
                (*model)->metrics_json.c_str());
    return kExitOk;
  }
  std::printf("trained %s on %lld player-games %s .. %s in %.1fs\nwrote %s\nmetrics %s\n",
              (*model)->version().c_str(), static_cast<long long>((*model)->n_train), (*model)->window_from.c_str(),
              (*model)->window_to.c_str(), secs, out.c_str(), (*model)->metrics_json.c_str());
  std::printf("use it: [predictions] model_path = \"%s\" in the config, or NBAPROPS_MODEL=%s\n", out.c_str(),
              out.c_str());
  return kExitOk;
}

int CmdPredict(const GlobalOptions& g, const std::string& date) {
  if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  const std::string season = FormatIsoDate(pipeline::SeasonStart(*ParseIsoDate(date)));
  if (int rc = EnsureFeatures(env, season, date, g.quiet)) return rc;
  auto res = pipeline::RunDate(*env.runner, date, 5, "manual");
  for (auto& [name, o] : res.outcomes) {
    if (!o.status.ok()) return Fail(kExitFailed, name + " for " + date + ": " + o.status.message());
  }
  Table t({"system", "player", "team", "opp", "line", "book", "pred", "p(over)", "pick", "conf"});
  int64_t picks = 0;
  Status st = env.store->WithRead([&](store::Transaction& tx) {
    return tx.Query(
        "SELECT system_id, player_name, team, opponent, line, sportsbook, predicted_points, prob_over, "
        "recommendation, COALESCE(confidence, '') FROM player_prop_predictions WHERE game_date = ? AND superseded_by "
        "IS NULL AND recommendation IN ('OVER', 'UNDER') ORDER BY system_id, ABS(edge) DESC",
        {date}, [&](const store::Row& r) {
          ++picks;
          char line[16], pred[16], prob[16];
          std::snprintf(line, sizeof line, "%.1f", r.Double(4));
          std::snprintf(pred, sizeof pred, "%.1f", r.Double(6));
          std::snprintf(prob, sizeof prob, "%.3f", r.Double(7));
          t.Add({r.Text(0), r.Text(1), r.Text(2), r.Text(3), line, r.Text(5), pred, prob, r.Text(8), r.Text(9)});
          return OkStatus();
        });
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  std::string details;
  st = env.store->WithRead([&](store::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto run, engine::Ledger::Latest(tx, "player_prop_predictions", date));
    if (run) details = run->details;
    return OkStatus();
  });
  std::printf("player_prop_predictions %s: %s\n", date.c_str(), details.c_str());
  std::printf("%s%lld pick(s)\n", t.Render().c_str(), static_cast<long long>(picks));
  return kExitOk;
}

int CmdEvaluate(const GlobalOptions& g, const EvaluateOptions& o) {
  if (auto bad = CheckDate(o.from, "--from")) return Fail(kExitUsage, *bad);
  if (auto bad = CheckDate(o.to, "--to")) return Fail(kExitUsage, *bad);
  if (!o.train_from.empty()) {
    if (auto bad = CheckDate(o.train_from, "--train-from")) return Fail(kExitUsage, *bad);
  }
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  if (int rc = EnsureFeatures(env, TrainingStart(o.train_from, o.from), o.to, g.quiet || g.json)) return rc;
  pipeline::EvalOptions eo;
  eo.from = o.from;
  eo.to = o.to;
  eo.train_from = o.train_from;
  eo.retrain = o.retrain;
  eo.primary_system = o.system;
  eo.seed = o.seed;
  eo.train.minutes_feature = o.minutes_feature;
  eo.config = pipeline::PredictionConfigFrom(env.config);
  Progress progress("evaluate (retrain " + o.retrain + ")", g.quiet || g.json);
  auto res = pipeline::Evaluate(*env.store, eo, [&](int done, int total, const std::string& what) {
    progress.Update(done, total, what);
  });
  if (!res.ok()) {
    return Fail(res.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed,
                res.status().message());
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  for (auto [name, content] : {std::pair<std::string, const std::string*>{"evaluation.json", &res->json},
                               {"reliability.svg", &res->reliability_svg},
                               {"cumulative.svg", &res->cumulative_svg}}) {
    if (Status s = WriteFileAtomic(o.out_dir + "/" + name, *content); !s.ok()) {
      return Fail(kExitFailed, "writing " + o.out_dir + "/" + name + ": " + s.message());
    }
  }
  if (g.json) {
    std::printf("%s", res->json.c_str());
  } else {
    std::printf("%swrote %s/evaluation.json, reliability.svg, cumulative.svg\n", res->json.c_str(),
                o.out_dir.c_str());
  }
  return kExitOk;
}

int CmdGrade(const GlobalOptions& g, const std::string& date) {
  if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  engine::RunOutcome o = env.runner->Execute(*env.runner->Find("prediction_accuracy"), date, date, "manual");
  if (!o.status.ok()) return Fail(kExitFailed, "grading " + date + ": " + o.status.message());
  Table t({"system", "predictions", "picks", "W", "L", "P", "void", "units", "MAE model", "MAE line", "CLV"});
  Status st = env.store->WithRead([&](store::Transaction& tx) {
    return tx.Query("SELECT system_id, predictions, picks, wins, losses, pushes, voids, units, mae_model, mae_line, "
                    "avg_clv FROM prediction_performance_daily WHERE game_date = ? ORDER BY system_id",
                    {date}, [&](const store::Row& r) {
                      auto f = [&](int i, const char* fmt) {
                        if (r.IsNull(i)) return std::string("-");
                        char buf[32];
                        std::snprintf(buf, sizeof buf, fmt, r.Double(i));
                        return std::string(buf);
                      };
                      t.Add({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
                             f(7, "%+.2f"), f(8, "%.2f"), f(9, "%.2f"), f(10, "%+.2f")});
                      return OkStatus();
                    });
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  std::printf("graded %s: %lld prediction(s)\n%s", date.c_str(), static_cast<long long>(o.records_out),
              t.Render().c_str());
  return kExitOk;
}

int CmdReport(const GlobalOptions& g, const std::string& from, const std::string& to, const std::string& by) {
  if (auto bad = CheckDate(from, "--from")) return Fail(kExitUsage, *bad);
  if (auto bad = CheckDate(to, "--to")) return Fail(kExitUsage, *bad);
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  auto rep = pipeline::BuildReport(*env.store, from, to, by);
  if (!rep.ok()) {
    return Fail(rep.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitStore,
                rep.status().message());
  }
  if (g.json) {
    std::printf("%s", pipeline::ReportJson(*rep).c_str());
    return kExitOk;
  }
  std::printf("graded predictions %s .. %s by %s\n%s", from.c_str(), to.c_str(), by.c_str(), RenderReport(*rep).c_str());
  return kExitOk;
}

int CmdExport(const GlobalOptions& g, const std::string& date, const std::string& out) {
  if (auto bad = CheckDate(date, "--date")) return Fail(kExitUsage, *bad);
  Env env;
  if (int rc = OpenEnv(g, false, &env)) return rc;
  const std::string dir = out.empty() ? env.config.export_dir : out;
  const Clock& clock = env.runner->clock();
  auto p = pipeline::ExportPredictions(*env.store, clock, dir, date);
  if (!p.ok()) return Fail(kExitFailed, "exporting predictions: " + p.status().message());
  auto r = pipeline::ExportResults(*env.store, clock, dir, date);
  if (!r.ok()) return Fail(kExitFailed, "exporting results: " + r.status().message());
  for (const auto* res : {&*p, &*r}) {
    for (const std::string& f : res->written) std::printf("wrote %s\n", f.c_str());
  }
  int rc = kExitOk;
  for (const auto& [what, res] : {std::pair<const char*, const pipeline::ExportResult*>{"predictions", &*p},
                                  {"results", &*r}}) {
    if (res->halt_reason.empty()) continue;
    std::printf("HALT %s %s: %s (the last good documents were kept, marked halted)\n", what, date.c_str(),
                res->halt_reason.c_str());
    rc = kExitFailed;
  }
  return rc;
}

StatusOr<WalkForward> RunWalkForward(Env& env, bool quiet) {
  WalkForward w;
  auto dates = pipeline::GameDates(*env.store);
  RETURN_IF_ERROR(dates.status());
  if (dates->empty()) return FailedPreconditionError("no games were imported");
  std::optional<std::string> first_line;
  RETURN_IF_ERROR(env.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(first_line, t.QueryText("SELECT MIN(game_date) FROM raw_player_props"));
    return OkStatus();
  }));
  w.from = first_line.value_or(dates->back());
  w.to = dates->back();
  const int32_t first = *ParseIsoDate(dates->front()), last = *ParseIsoDate(dates->back());
  const int32_t walk_from = *ParseIsoDate(w.from);
  const std::string season = FormatIsoDate(pipeline::SeasonStart(first));
  Progress progress("season walk-forward", quiet);
  // Blocks of dates whose phases 3-4 run as ranges (pipeline::RunDates): each block after
  // walk_from starts on a weekly training day and ends before the next, so the model trained
  // on its first day (from the dates before it) predicts the whole block, as date by date.
  for (int32_t day = first; day <= last;) {
    int32_t end = std::min(last, day + pipeline::kBackfillRangeDays - 1);
    end = day < walk_from ? std::min(end, walk_from - 1) : std::min(end, day + 6);
    std::vector<std::string> dates;
    for (int32_t x = day; x <= end; ++x) dates.push_back(FormatIsoDate(x));
    std::vector<pipeline::DateRunResult> block(dates.size());
    auto run = [&](int phase) {
      std::vector<pipeline::DateRunResult> r = pipeline::RunDates(*env.runner, dates, phase, "backfill");
      for (size_t i = 0; i < dates.size(); ++i) {
        block[i].date = dates[i];
        block[i].outcomes.insert(block[i].outcomes.end(), r[i].outcomes.begin(), r[i].outcomes.end());
      }
    };
    run(3);
    run(4);
    if (day >= walk_from) {
      const std::string d = dates.front();
      pipeline::TrainingSet data;
      RETURN_IF_ERROR(env.store->WithRead([&](store::Transaction& t) -> Status {
        ASSIGN_OR_RETURN(data, pipeline::LoadTrainingSet(t, season, d));
        return OkStatus();
      }));
      ASSIGN_OR_RETURN(auto model, pipeline::Model::Train(data, pipeline::TrainOptions{}, d));
      RETURN_IF_ERROR(model->Save(env.config.model_path + "/points-" + d + ".json"));
    }
    run(5);
    run(6);
    for (auto& r : block) w.results.push_back(std::move(r));
    progress.Update(end - first + 1, last - first + 1, dates.back());
    day = end + 1;
  }
  return w;
}

// The system whose figures lead the demo's season record and charts (as in the exports).
constexpr const char* kHeadlineSystem = "market";

int PrintSeasonRecord(Env& env, const std::string& from, const std::string& to) {
  auto by_system = pipeline::BuildReport(*env.store, from, to, "system");
  auto by_book = pipeline::BuildReport(*env.store, from, to, "sportsbook", kHeadlineSystem);
  if (!by_system.ok() || !by_book.ok()) {
    return Fail(kExitStore, (by_system.ok() ? by_book.status() : by_system.status()).message());
  }
  std::printf("== season record %s .. %s (walk-forward: each day predicted by a model trained on earlier games)\n",
              from.c_str(), to.c_str());
  std::printf("%s", RenderReport(*by_system).c_str());
  std::printf("%s by sportsbook\n%s", kHeadlineSystem, RenderReport(*by_book).c_str());
  // Charts of the stored record: cumulative units per system, and the headline system's calibration.
  std::vector<std::string> days;
  std::map<std::string, std::map<std::string, double>> units;  // system -> date -> units
  std::vector<double> prob, prob_market;
  std::vector<int> over;
  Status st = env.store->WithRead([&](store::Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Query("SELECT game_date, system_id, units FROM prediction_performance_daily WHERE game_date "
                            ">= ? AND game_date <= ? AND picks > 0 ORDER BY game_date",
                            {from, to}, [&](const store::Row& r) {
                              if (days.empty() || days.back() != r.Text(0)) days.push_back(r.Text(0));
                              units[r.Text(1)][r.Text(0)] = r.Double(2);
                              return OkStatus();
                            }));
    return t.Query("SELECT p.prob_over, a.actual_points > a.line, p.over_price, p.under_price FROM "
                   "prediction_accuracy a JOIN player_prop_predictions p ON p.prediction_id = a.prediction_id WHERE "
                   "a.game_date >= ? AND a.game_date <= ? AND a.system_id = ? AND a.actual_points IS NOT NULL AND "
                   "a.line IS NOT NULL AND a.actual_points != a.line AND a.minutes > 0 AND p.prob_over IS NOT NULL",
                   {from, to, std::string(kHeadlineSystem)}, [&](const store::Row& r) {
                     prob.push_back(r.Double(0));
                     over.push_back(static_cast<int>(r.Int(1)));
                     pipeline::LineQuote q;
                     q.over = r.OptInt(2);
                     q.under = r.OptInt(3);
                     prob_market.push_back(pipeline::VigFreeProbOver(q).value_or(0.5));
                     return OkStatus();
                   });
  });
  if (!st.ok()) return Fail(kExitStore, st.message());
  std::vector<Series> series;
  for (auto& [system, by_day] : units) {
    Series line{system, {}};
    double cum = 0;
    for (const std::string& d : days) {
      if (auto it = by_day.find(d); it != by_day.end()) cum += it->second;
      line.y.push_back(cum);
    }
    series.push_back(std::move(line));
  }
  const std::string charts = env.config.export_dir + "/charts";
  std::filesystem::create_directories(charts);
  Status w1 = WriteFileAtomic(charts + "/cumulative.svg",
                              LineChartSvg("Cumulative units, walk-forward " + from + " to " + to, days, series, "units"));
  Status w2 = WriteFileAtomic(charts + "/reliability.svg",
                              ReliabilityDiagramSvg(std::vector<ReliabilitySeries>{{kHeadlineSystem, Reliability(prob, over, 10)},
                                                                                   {"sportsbook (vig-free)", Reliability(prob_market, over, 10)}},
                                                    "Reliability of prob_over: " + std::string(kHeadlineSystem) +
                                                        " and the sportsbook (vig-free), " + from + " to " + to));
  if (!w1.ok() || !w2.ok()) return Fail(kExitFailed, "writing charts: " + (w1.ok() ? w2 : w1).message());
  std::printf("exports in %s/ (predictions, best-bets, results, systems/performance.json, status.json); charts in "
              "%s/ (cumulative.svg, reliability.svg); models in %s/\n",
              env.config.export_dir.c_str(), charts.c_str(), env.config.model_path.c_str());
  return kExitOk;
}

}  // namespace nbaprops::cli
