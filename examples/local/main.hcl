# A whole stack on this machine, no cloud account needed: builds the web app
# in ../app into an image, runs two containers of it on their own network with
# a shared volume, and outputs their URLs.
#
#   dumcel apply
#   curl "$(dumcel output -raw blue_url)"

variable "app_dir" {
  description = "The build context: a Dockerfile and the pages."
  default     = "../app"
}

variable "prefix" {
  description = "Names of the containers, network, volume and image start with it."
  default     = "dumcel-demo"
}

variable "ports" {
  description = "One container per entry, published on 127.0.0.1 at this port."
  type        = map(number)
  default = {
    blue  = 18081
    green = 18082
  }
}

resource "docker_network" "app" {
  name = var.prefix
}

resource "docker_volume" "data" {
  name = "${var.prefix}-data"
}

resource "docker_image" "web" {
  name = "${var.prefix}-web:latest"
  build {
    context = var.app_dir
  }
}

resource "docker_container" "web" {
  for_each = var.ports

  name    = "${var.prefix}-${each.key}"
  image   = docker_image.web.id
  env     = ["INSTANCE=${each.key}"]
  restart = "unless-stopped"

  networks_advanced {
    name    = docker_network.app.name
    aliases = ["web-${each.key}"]
  }

  ports {
    internal = 8080
    external = each.value
    ip       = "127.0.0.1"
  }

  volumes {
    volume_name    = docker_volume.data.name
    container_path = "/data"
  }

  healthcheck {
    test     = ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
    interval = "1s"
    timeout  = "2s"
    retries  = 10
  }

  wait = true
}

output "urls" {
  value = { for name, port in var.ports : name => "http://127.0.0.1:${port}/" }
}

output "blue_url" {
  value = "http://127.0.0.1:${docker_container.web["blue"].ports[0].external}/"
}

output "image_id" {
  value = docker_image.web.id
}
