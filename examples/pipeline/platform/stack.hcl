# The platform every environment of the pipeline's projects shares, applied
# once (by hand or from its own CI job) before the first deploy: one ALB in
# the default VPC, HTTP redirected to HTTPS, one HTTPS listener with a
# wildcard certificate for `*.<domain>` validated through DNS in the
# domain's Route 53 zone, `*.<domain>` and `<domain>` pointing at the ALB,
# and one ECS cluster. The daemon serves production at `<project>.<domain>`
# and each preview at `<branch>--<project>.<domain>`: one DNS label under
# the domain, so the one certificate and the one wildcard record cover them
# all. An environment's stack (../deploy/stack.hcl) finds the ALB, the
# listener and the cluster by this stack's `name` and adds only its own
# target group, listener rule, task definition and service.

variable "name" {
  description = "Names the ALB, the cluster and the security group (at most 28 characters)"
  type        = string
  default     = "apps"
}

variable "domain" {
  description = "The pipeline's `domain`: this stack creates its zone"
  type        = string
  default     = "apps.test"
}

provider "aws" {
  default_tags {
    tags = {
      managed_by = "dumcel"
      platform   = var.name
    }
  }
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  vpc_id = data.aws_vpc.default.id
}

resource "aws_security_group" "lb" {
  name        = "${var.name}-lb"
  description = "HTTP and HTTPS from anywhere; to the tasks of every environment"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    description = "HTTP, only to be redirected to HTTPS"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  # Each environment's tasks have a security group of their own, made after
  # this one: the load balancer may reach the app port anywhere in the VPC.
  egress {
    description = "To the tasks"
    from_port   = 8080
    to_port     = 8080
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.default.cidr_block]
  }
}

resource "aws_lb" "main" {
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  subnets            = data.aws_subnets.default.ids
  security_groups    = [aws_security_group.lb.id]
}

# Delegate the domain to this zone's name servers (output name_servers).
resource "aws_route53_zone" "main" {
  name          = var.domain
  force_destroy = true
}

resource "aws_acm_certificate" "wildcard" {
  domain_name               = "*.${var.domain}"
  subject_alternative_names = [var.domain]
  validation_method         = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# ACM's validation record for each domain of the certificate, as the
# Terraform documentation writes it: the domain names are known at plan
# time, the record names and values once the certificate exists.
# `*.<domain>` and `<domain>` share one validation record: allow_overwrite
# lets the second write it again instead of failing.
resource "aws_route53_record" "validation" {
  for_each = {
    for dvo in aws_acm_certificate.wildcard.domain_validation_options : dvo.domain_name => {
      name   = dvo.resource_record_name
      record = dvo.resource_record_value
      type   = dvo.resource_record_type
    }
  }

  allow_overwrite = true
  name            = each.value.name
  records         = [each.value.record]
  ttl             = 60
  type            = each.value.type
  zone_id         = aws_route53_zone.main.zone_id
}

resource "aws_acm_certificate_validation" "wildcard" {
  certificate_arn         = aws_acm_certificate.wildcard.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# The environments add their host-name rules here; a host nobody serves
# gets a 404.
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.wildcard.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "no app is served at this host name"
      status_code  = "404"
    }
  }
}

# Every environment's host name, present and future.
resource "aws_route53_record" "wildcard" {
  zone_id = aws_route53_zone.main.zone_id
  name    = "*.${var.domain}"
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = false
  }
}

resource "aws_route53_record" "apex" {
  zone_id = aws_route53_zone.main.zone_id
  name    = var.domain
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = false
  }
}

resource "aws_ecs_cluster" "main" {
  name = var.name
}

output "lb_dns_name" {
  value = aws_lb.main.dns_name
}

output "https_listener_arn" {
  value = aws_lb_listener.https.arn
}

output "cluster" {
  value = aws_ecs_cluster.main.name
}

output "name_servers" {
  description = "Delegate the domain to these"
  value       = aws_route53_zone.main.name_servers
}
