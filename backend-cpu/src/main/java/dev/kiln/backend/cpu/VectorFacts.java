package dev.kiln.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The Vector API as this JVM runs it. Only touched when jdk.incubator.vector is present. */
final class VectorFacts {
    private VectorFacts() {}

    static String describe() {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        return "Vector API: preferred float species " + s.vectorBitSize() + " bits (" + s.length() + " floats per vector)";
    }
}
