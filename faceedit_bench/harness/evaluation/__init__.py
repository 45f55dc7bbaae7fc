"""The evaluation pass: every editor edits each batch, every metric reads it (:mod:`.run`)."""
