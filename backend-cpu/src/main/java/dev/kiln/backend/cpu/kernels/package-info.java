/**
 * Kernel templates: plain Java classes that the specialiser ({@code dev.kiln.backend.cpu.Specialiser})
 * copies, fills in with constants and defines as hidden classes here, one per kernel. These are the
 * rules a template has to keep. The specialiser enforces the ones marked <em>checked</em>. The
 * others are about speed: break them and the kernel still computes the right numbers, only several
 * times slower.
 *
 * <h2>Shape of a template</h2>
 * A {@code public final} class in this package that implements {@link dev.kiln.backend.cpu.kernels.Kernel},
 * with a public no-argument constructor. Hidden classes are defined through {@link
 * dev.kiln.backend.cpu.kernels.Templates#lookup()}, so they must be in this package. Several
 * threads run one kernel at once on disjoint {@code [lo, hi)} ranges, so a template keeps no
 * mutable static state. Per-thread scratch is a {@code ThreadLocal} array made on the thread's
 * first call, so a call allocates nothing once it has warmed up.
 *
 * <h2>Parameters: what becomes a constant</h2>
 * <ul>
 *   <li>Every {@code static} field named {@code P_*} is a parameter. Each read of it becomes the
 *       lowering's value as a constant, and the field is deleted. A parameter is a non-final
 *       {@code int} or {@code float} (<em>checked</em>: javac would copy a final field's
 *       initial value into the code, and the value given would never be read). An int takes an Integer, a Boolean (1 or 0) or an
 *       {@code Act} (an activation slot, below). A float takes a Float or a Double (narrowed)
 *       (<em>checked</em>).</li>
 *   <li>Parameters are only read: no initialiser, no assignment (<em>checked</em>: either one is
 *       a write). A template reads only its own parameters, never another template's
 *       (<em>checked</em>: those would not be specialised and would read 0).</li>
 *   <li>Every parameter the template reads needs a value, and every value must name a parameter
 *       the template declares (<em>checked</em>, with the names in the error). The one exception
 *       is a placement. A lowering's {@code Params.placement("X", p)} gives all of
 *       {@code P_X_SLOT, _OFF, _S0.._S3, _D0.._D3}. A template that declares {@code P_X_SLOT}
 *       takes that placement and may leave its other components undeclared. A placement whose
 *       SLOT it does not declare is unknown.</li>
 *   <li>{@code static final} fields computed from parameters (say
 *       {@code static final int ARS = P_A_PACK == 1 ? 1 : P_A_RS}) are constants too: each
 *       specialised class runs its own {@code <clinit>}, and C2 treats static finals as
 *       constants. Derive values there, not in instance fields.</li>
 *   <li>A branch or {@code switch} that compares a parameter with a literal or with another
 *       parameter is decided by the specialiser, and the side not taken is deleted before C2
 *       sees the method. So one template can serve many variants (bias modes, combines, packed
 *       or not). A condition computed with arithmetic ({@code P_A * P_B > 8}) or through a local
 *       stays in the bytecode. C2 still folds it, but the method keeps its size, and size
 *       matters (below).</li>
 * </ul>
 *
 * <h2>Element-wise functions: {@code VecMath.apply} slots</h2>
 * A template applies an activation with {@code VecMath.apply(v, P_ACT)}, on a {@code FloatVector}
 * or on a {@code float}, with an int parameter that the lowering sets to an {@code Act}. The
 * slot must be that parameter read directly, not a local or a computed value (<em>checked</em>).
 * Each distinct activation of a kernel gets a slot number, and the call is replaced by the
 * activation's expression written inline. Slot 0 ({@code Act.NONE}) deletes the call and leaves
 * the value as it is. No {@code VecMath} call is left in a specialised kernel, and the vector
 * and scalar forms use the same formulas, so a tail element matches a vector lane.
 *
 * <h2>Epilogues: {@code VecMath.epilogue} slots</h2>
 * A template with an anchor's epilogue writes {@code v = VecMath.epilogue(v, extra, P_EPI)} where
 * the biased value is ready, extra being the extra operand's vector (or float) when
 * {@code P_EXTRA == 1} and null (0) otherwise. The lowering sets both with
 * {@code Params.epilogue(Epilogue)}; the specialiser replaces the call by the epilogue's code
 * ({@code EpilogueInliner}: runs of activations as one inlined expression, the add or mul of the
 * extra at its place). A template never learns which post-ops exist or in which order.
 *
 * <h2>Vectors never cross a call that is not inlined</h2>
 * A {@code FloatVector} or {@code VectorMask} passed to or returned from a method that C2 does not
 * inline is boxed: an allocation per call (seen in {@code GemmKernel}: ~70 KB per call of
 * the cnn model). So helpers take arrays, offsets and ints, and accumulators go
 * through a scratch tile in memory. An epilogue is written out where it is used. Masks are built
 * where they are used ({@code S.indexInRange(j, n)}), not returned from a helper. {@code
 * VecMath.apply} and {@code VecMath.epilogue} are the exception because they are never called.
 *
 * <h2>Method size</h2>
 * C2 does not compile a method over 8,000 bytes of bytecode ({@code DontCompileHugeMethods}): it
 * stays in the interpreter, where every vector operation allocates. C2 also inlines only small callees (35
 * bytes if rarely called, 325 if hot). What counts is the size after specialisation, with dead
 * branches deleted. Split a big kernel into methods along the boundaries where no vector has to
 * cross (one register tile per method). Keep the accumulators of a hot loop in locals, unrolled
 * by hand: a {@code FloatVector[]} is not scalar-replaced and ran 40–60× slower.
 *
 * <p>Far below 8,000 bytes there is a second limit: C1's tier-3 compile (the profiled one that leads
 * to C2) can fail with "out of virtual registers in linear scan" on a method with many live vectors.
 * HotSpot then leaves the method in tier-2 C1 code for good: never compiled by C2, every vector
 * boxed. {@code AttentionKernel.row} hit it at 848 bytes once an additive mask's four loads were
 * added (16 MB allocated per call, 5× slower); moving them to their own method fixed it. The step
 * profile's bytes column ({@code -Dkiln.cpu.profile=true}) shows such a kernel; {@code
 * -XX:+PrintCompilation} shows the "COMPILE SKIPPED" line.
 *
 * <h2>Vector width and tails</h2>
 * The species is a constant: {@code static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED}.
 * It is never a parameter or an argument, and the lane count is never hard-coded (16 here, other
 * machines differ). Loops run unmasked over whole vectors ({@code for (; j <= n - S.length(); j += S.length())}),
 * then finish with one masked vector or a scalar loop. A mask on every iteration is slow. A tail
 * must compute exactly what a lane computes.
 */
package dev.kiln.backend.cpu.kernels;
