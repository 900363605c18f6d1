package dev.quiver.host.training;

/** Thrown into a running job at its next progress report once a cancel was asked. */
public final class JobCancelledException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    JobCancelledException(String jobId) {
        super("[Quiver/JOB_CANCELLED] training job " + jobId + " was cancelled");
    }
}
