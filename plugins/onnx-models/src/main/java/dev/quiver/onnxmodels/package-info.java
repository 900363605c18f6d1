/**
 * ONNX models served with a JSON sidecar: {@link dev.quiver.onnxmodels.OnnxModels} checks a model
 * file against its sidecar and opens it with ONNX Runtime, {@link
 * dev.quiver.onnxmodels.SidecarJson} reads sidecar fields, {@link
 * dev.quiver.onnxmodels.WindowSidecar} and {@link dev.quiver.onnxmodels.WindowModel} hold a
 * classifier over a window of z-scored feature rows. Every refusal is a {@link
 * dev.quiver.onnxmodels.ModelRefusedException} naming the file and what was expected.
 *
 * <p>A library that plugins bundle in their own zip ({@code lib/onnx-models-*.jar}); it is not part
 * of the plugin contract and the host never loads it.
 */
package dev.quiver.onnxmodels;
