// `nbaprops doctor`: config, store, migrations, alert channels, schedules, model, disk space and
// open critical incidents, as a table (or --json); exit 0 only when no check fails.
#ifndef NBAPROPS_CLI_DOCTOR_COMMANDS_H_
#define NBAPROPS_CLI_DOCTOR_COMMANDS_H_

#include "cli/commands.h"

namespace nbaprops::cli {

int CmdDoctor(const GlobalOptions& g);

}  // namespace nbaprops::cli

#endif  // NBAPROPS_CLI_DOCTOR_COMMANDS_H_
