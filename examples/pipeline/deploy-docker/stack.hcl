# The stack the pipeline applies on every push when it deploys to a Docker
# host (the daemon's default target), checked in as deploy/stack.hcl next to
# the app's Dockerfile (examples/app in the demo and the tests). The worker
# sets these variables (each only if the stack declares it): `image`
# (<registry>/<repository>:<commit SHA>, built on this Docker engine and
# pushed), `environment` (`production` for the default branch,
# `preview-<branch>` for others, each in its own workspace), `host` (the host
# name the router serves it at) and `rollout_timeout` (the daemon's, in
# seconds: how long the new container has to become healthy).
#
# A release is zero-downtime: the new container starts beside the old one
# (create_before_destroy; its name follows the image, so the two never
# clash), must pass its health check within the rollout timeout, then the route
# switches to it, then the old container is removed once drain_timeout has
# passed. A container that never becomes healthy is removed, its last log
# lines in the error, and the route never moves: the old one keeps serving.

variable "project" {
  type    = string
  default = "shop"
}

variable "image" {
  type = string
}

variable "environment" {
  type    = string
  default = "production"
}

variable "host" {
  type    = string
  default = "shop.localhost"
}

variable "rollout_timeout" {
  type    = number
  default = 60
}

resource "docker_container" "web" {
  name    = "${var.project}-${var.environment}-${substr(sha256(var.image), 0, 12)}"
  image   = var.image
  restart = "unless-stopped"
  labels = {
    "dumcel.project"     = var.project
    "dumcel.environment" = var.environment
  }

  # Published on loopback only, at a port Docker picks: the router reaches it.
  ports {
    internal = 8080
    ip       = "127.0.0.1"
  }

  healthcheck {
    test     = ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
    interval = "1s"
    timeout  = "2s"
    retries  = 3
  }
  wait         = true
  wait_timeout = var.rollout_timeout

  lifecycle {
    create_before_destroy = true
  }
}

resource "docker_route" "web" {
  host          = var.host
  container     = docker_container.web.name
  port          = 8080
  drain_timeout = 2
}

output "url" {
  value = "http://${var.host}/"
}
