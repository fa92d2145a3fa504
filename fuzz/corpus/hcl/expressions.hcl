variable "names" {
  type    = list(string)
  default = ["a", "b"]
}
locals {
  upper = [for n in var.names : upper(n) if n != ""]
  joined = "%{ for n in var.names }${n}-%{ endfor }"
}
resource "null_resource" "n" {
  count    = length(var.names)
  triggers = { name = var.names[count.index], all = join(",", local.upper) }
}
resource "local_file" "f" {
  for_each = toset(var.names)
  filename = "${path.module}/${each.key}.txt"
  content  = try(null_resource.n[0].id, "none")
  depends_on = [null_resource.n]
}
output "ids" {
  value = null_resource.n[*].id
}
