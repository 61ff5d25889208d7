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
        int exitCode = new CommandLine(new SparsemeshCli()).execute(args);
        System.exit(exitCode);
    }
}
