# A stack of built-in resources: runs anywhere, no cloud needed.
# dev/demo.sh applies it; `dumcel -chdir=examples/builtin plan` shows it.

variable "environment" {
  description = "Name of the environment the files describe."
  type        = string
  default     = "demo"
}

variable "services" {
  type = map(number)
  default = {
    web    = 8080
    worker = 9090
  }
}

variable "api_token" {
  description = "A secret: never printed in plans, logs or outputs."
  type        = string
  sensitive   = true
  default     = "not-a-real-token"
}

locals {
  prefix = "${var.environment}-"
  ports  = [for name, port in var.services : "${name}=${port}"]
}

# Replaced whenever the environment name changes.
resource "null_resource" "release" {
  triggers = {
    environment = var.environment
  }
}

# One config file per service, written next to the stack.
resource "local_file" "service" {
  for_each = var.services
  filename = "${path.module}/out/${local.prefix}${each.key}.conf"
  content  = <<-EOT
    service = ${each.key}
    port    = ${each.value}
    release = ${null_resource.release.id}
  EOT
}

resource "local_file" "index" {
  filename        = "${path.module}/out/${local.prefix}index.txt"
  content         = join("\n", concat(local.ports, [""]))
  file_permission = "0644"
}

resource "local_file" "token" {
  filename        = "${path.module}/out/${local.prefix}token"
  content         = var.api_token
  file_permission = "0600"
}

# Gives the services time to read their files before anything depends on them.
resource "time_sleep" "settle" {
  create_duration = "1s"
  depends_on      = [local_file.service, local_file.index]
}

output "config_files" {
  value = [for f in local_file.service : f.filename]
}

output "release_id" {
  value = null_resource.release.id
}
