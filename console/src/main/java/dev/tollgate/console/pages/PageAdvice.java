package dev.tollgate.console.pages;

import dev.tollgate.console.api.ApiProblem;
import dev.tollgate.console.money.Money;
import dev.tollgate.console.security.ConsoleSecurity;
import dev.tollgate.console.security.Viewer;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.client.ClientAuthorizationRequiredException;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.servlet.ModelAndView;

import java.util.Map;

/**
 * What every page has: the signed-in viewer, money formatting, and one place that turns an API's
 * problem details into a page a person can read, with the API's own status.
 */
@ControllerAdvice
public class PageAdvice {
    /** Where a person whose sign-in ran out is sent: the console's one OIDC registration. */
    static final String SIGN_IN_AGAIN = "redirect:/oauth2/authorization/" + ConsoleSecurity.REGISTRATION;
    private static final Logger log = LoggerFactory.getLogger(PageAdvice.class);

    @ModelAttribute("me")
    public Viewer viewer(@AuthenticationPrincipal OidcUser user) {
        return user == null ? null : Viewer.of(user);
    }

    @ModelAttribute("money")
    public MoneyFormat money() {
        return MoneyFormat.INSTANCE;
    }

    /** Money for templates: {@code ${money.of(micros, currency)}}. */
    public static final class MoneyFormat {
        static final MoneyFormat INSTANCE = new MoneyFormat();

        public String of(Object micros, String currency) {
            return micros instanceof Number n ? Money.format(n.longValue(), currency) : "";
        }
    }

    @ExceptionHandler(ApiProblem.class)
    public ModelAndView problem(ApiProblem problem, HttpServletResponse response) {
        if (problem.status() == 401) {
            return new ModelAndView(SIGN_IN_AGAIN);
        }
        if (problem.status() >= 500) {
            log.warn("an API call failed: {}", problem.getMessage());
        }
        response.setStatus(problem.status() >= 500 ? 503 : problem.status());
        var page = new ModelAndView("problem", Map.of("problem", problem));
        // An exception handler's view gets no @ModelAttribute values: the header needs the viewer all the same.
        if (SecurityContextHolder.getContext().getAuthentication() instanceof Authentication signedIn
                && signedIn.getPrincipal() instanceof OidcUser user) {
            page.addObject("me", Viewer.of(user));
        }
        return page;
    }

    /** The refresh token ran out or was refused: sign in again. */
    @ExceptionHandler(ClientAuthorizationRequiredException.class)
    public String signInAgain() {
        return SIGN_IN_AGAIN;
    }
}
