/**
 * The OpenCL backend: OpenCL C generated from the optimised graph, run through JOCL.
 *
 * <p>In the order data flows:
 * <ol>
 *   <li>{@link dev.kiln.backend.opencl.OpenClBackend} (the SPI) picks a device
 *       ({@link dev.kiln.backend.opencl.DeviceSelector}) found by {@link dev.kiln.backend.opencl.OpenClRuntime},
 *       which owns one context and queue per device ({@link dev.kiln.backend.opencl.DeviceContext}).</li>
 *   <li>{@link dev.kiln.backend.opencl.DeviceLayout} places every value: intermediates in one arena at the
 *       memory plan's offsets (with its zero halos), constants in one weights buffer, graph inputs and
 *       outputs in buffers of their own. Kernels see each operand as a {@link dev.kiln.backend.opencl.View}.</li>
 *   <li>{@link dev.kiln.backend.opencl.Lowering} turns each node into one kernel, through the generator
 *       of its family: {@link dev.kiln.backend.opencl.GemmKernel} (Linear, MatMul, Conv2d as implicit
 *       GEMM, FusedDwPwConv), the depthwise and pointwise parts of {@link dev.kiln.backend.opencl.ConvKernels},
 *       {@link dev.kiln.backend.opencl.AttentionKernel} (flash attention), {@link dev.kiln.backend.opencl.LstmKernel}
 *       (or {@link dev.kiln.backend.opencl.SteppedRecurrentKernel} when the batch is smaller than the device's compute units),
 *       {@link dev.kiln.backend.opencl.SoftmaxKernel} and {@link dev.kiln.backend.opencl.MapKernels}
 *       (element-wise, data movement, pools). Shapes, strides and offsets are constants in the source;
 *       work-group sizes and tiles come from {@link dev.kiln.backend.opencl.DeviceLimits}.</li>
 *   <li>{@link dev.kiln.backend.opencl.ProgramCache} builds the program once per source and device (in
 *       memory and as binaries on disk); {@link dev.kiln.backend.opencl.OpenClExecutable} runs it with a pool
 *       of {@link dev.kiln.backend.opencl.RunBuffers}, one per concurrent run, each waiting for the device once
 *       per run (and, on CPU devices, in host memory with no transfers); {@link dev.kiln.backend.opencl.KernelProfile}
 *       reports device time per kernel under -Dkiln.opencl.profile=true.</li>
 * </ol>
 * Every OpenCL object is created and released through {@link dev.kiln.backend.opencl.ClObjects}.
 */
package dev.kiln.backend.opencl;
