package dev.kiln.passes;

/** Why a candidate was not rewritten: the kind tests and tools match on, and the detail the report prints. */
record Refusal(FusionReport.Kind kind, String detail) {
    Refusal {
        if (kind == FusionReport.Kind.FUSED || kind == FusionReport.Kind.DECLINED_BY_BACKEND)
            throw new IllegalArgumentException(kind + " is no refusal");
    }
}
