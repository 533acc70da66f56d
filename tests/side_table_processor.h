// A generic processor for engine tests and benchmarks: each successful execution inserts its
// partition into `executions` inside its commit, so counting that table counts executions.
#ifndef NBAPROPS_TESTS_SIDE_TABLE_PROCESSOR_H_
#define NBAPROPS_TESTS_SIDE_TABLE_PROCESSOR_H_

#include <functional>
#include <string>
#include <vector>

#include "engine/processor.h"

namespace nbaprops::testing {

class SideTableProcessor : public engine::Processor {
 public:
  explicit SideTableProcessor(std::string name = "side", std::vector<std::string> inputs = {})
      : name_(std::move(name)), inputs_(std::move(inputs)) {}
  std::string name() const override { return name_; }
  int phase() const override { return 2; }
  std::vector<std::string> inputs() const override { return inputs_; }
  std::vector<std::string> output_tables() const override { return {"executions"}; }
  bool partition_local_commits() const override { return partition_local; }
  Status Run(engine::RunContext& ctx) override {
    if (before_commit) before_commit(ctx);
    if (fail) return fail(ctx);
    return ctx.CommitOutput([&](store::Transaction& t) -> Status {
      // As the pipeline's processors write their rows: deferred, the count is not needed.
      RETURN_IF_ERROR(t.ExecLater("INSERT INTO executions (processor, part, run_id) VALUES (?, ?, ?)",
                                  {name_, ctx.partition_key(), ctx.run_id()}));
      ctx.records_out = 1;
      return OkStatus();
    });
  }
  static constexpr const char* kTableSql =
      "CREATE TABLE IF NOT EXISTS executions (processor TEXT, part TEXT, run_id INTEGER)";

  std::function<Status(engine::RunContext&)> fail;
  std::function<void(engine::RunContext&)> before_commit;
  bool partition_local = false;  // its one insert is partition-local; off unless a test sets it

 private:
  std::string name_;
  std::vector<std::string> inputs_;
};

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_SIDE_TABLE_PROCESSOR_H_
