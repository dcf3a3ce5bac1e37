# tflint (pins.env TFLINT_VERSION; `make lint`). The terraform ruleset built into tflint, no plugin
# downloads; its recommended preset.
plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
