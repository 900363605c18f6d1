package dev.quiver.host.training;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A kind of training job ({@code fit-strategy}, ...): checks its parameters when the job is asked
 * for, and runs it on the scheduler's pool.
 */
public interface JobKind {

    /**
     * The kind's name, e.g. {@code fit-strategy}.
     *
     * @return the name
     */
    String name();

    /**
     * Checks the parameters and fills in their defaults, before the job is stored.
     *
     * @param params the parameters as asked for (a copy the kind may change)
     * @return the parameters the job will run with
     * @throws dev.quiver.api.error.QuiverInputException naming the field, if one is missing or
     *     wrong (e.g. a data set that does not exist, an alias the job may not move)
     */
    ObjectNode validate(ObjectNode params);

    /**
     * Runs the job.
     *
     * @param params the parameters {@link #validate} returned
     * @param context where to report progress; throws {@link JobCancelledException} once a cancel
     *     is asked
     * @return the result, a JSON object stored with the job
     * @throws Exception if the job fails: the job is marked failed with the message
     */
    ObjectNode run(ObjectNode params, JobContext context) throws Exception;
}
