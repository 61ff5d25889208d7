package io.sparsemesh.standalone;

import io.sparsemesh.standalone.experiment.ExperimentCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./sparsemesh}: dispatches to the subcommands. */
@Command(name = "sparsemesh",
        mixinStandardHelpOptions = true,
        version = "sparsemesh 0.1.0",
        description = "Serves sparse language models (MoE, indexer-selected sparse attention) as services "
                + "that scale one component at a time.",
        subcommands = {GenerateCommand.class, ServeCommand.class, BenchCommand.class, ExperimentCommand.class,
                CommandLine.HelpCommand.class})
public final class SparsemeshCli {

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new SparsemeshCli());
        // A missing file, an invalid checkpoint or a rejected request is the user's to fix: print
        // the message on one line instead of a stack trace (set -Dsparsemesh.debug=true for the trace).
        commandLine.setExecutionExceptionHandler((error, command, parseResult) -> {
            if (Boolean.getBoolean("sparsemesh.debug")) {
                error.printStackTrace();
            }
            command.getErr().println("error: " + error.getMessage());
            return 1;
        });
        int exitCode = commandLine.execute(args);
        System.exit(exitCode);
    }
}
