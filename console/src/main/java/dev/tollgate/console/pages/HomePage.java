package dev.tollgate.console.pages;

import dev.tollgate.console.security.Viewer;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.util.UriUtils;

import java.nio.charset.StandardCharsets;

/** Where a person lands after signing in: their tenant, or for operators the tenants list. */
@Controller
public class HomePage {

    @GetMapping("/")
    public String home(@AuthenticationPrincipal OidcUser user) {
        Viewer viewer = Viewer.of(user);
        if (viewer.has(Viewer.TENANT_ADMIN) && viewer.tenant() != null && !viewer.operator()) {
            return "redirect:/tenants/" + UriUtils.encodePathSegment(viewer.tenant(), StandardCharsets.UTF_8);
        }
        return "redirect:/operator/tenants";
    }

    @GetMapping("/signed-out")
    public String signedOut() {
        return "signed-out";
    }
}
