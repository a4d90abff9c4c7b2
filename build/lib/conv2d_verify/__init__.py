"""conv2d-verify: a differential test suite for torch.nn.Conv2d, or any conv2d with
torch.nn.functional.conv2d's signature, against a float64 numpy reference (the `reference`
package). The suite runs as a pytest plugin (conv2d_verify.plugin) over the test modules in
conv2d_verify.suite (tests/ in the repository)."""
