terraform {
  required_version = ">= 1.0"
}

variable "rules" {
  type = list(object({ port = number, cidr = string }))
  default = [
    { port = 80, cidr = "0.0.0.0/0" },
    { port = 443, cidr = "10.0.0.0/8" },
  ]
  validation {
    condition     = alltrue([for r in var.rules : r.port > 0])
    error_message = "Ports are positive."
  }
}

variable "secret" {
  type      = string
  sensitive = true
  default   = "s3cr3t"
}

module "self" {
  source = "./"
  count  = 0
}

resource "terraform_data" "firewall" {
  input = {
    script = <<-EOT
      #!/bin/sh
      %{ for r in var.rules ~}
      allow ${r.port} from ${r.cidr}
      %{ endfor ~}
    EOT
  }

  dynamic "rule" {
    for_each = var.rules
    iterator = it
    content {
      port = it.value.port
    }
  }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [input]
    replace_triggered_by  = [null_resource.n.id]
  }
}

resource "null_resource" "n" {
  for_each = { for i, r in var.rules : tostring(i) => r if r.port != 22 }
  triggers = {
    port = each.value.port
    key  = each.key
    mix  = "${each.key}-${try(each.value.cidr, "none")}"
  }
}

moved {
  from = null_resource.old
  to   = null_resource.n["0"]
}

import {
  to = terraform_data.firewall
  id = "fw-1"
}

output "ports" {
  value     = [for r in var.rules : r.port]
  sensitive = false
}
